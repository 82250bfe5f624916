// The built-in rule packs are embedded with `include_dir!`; rebuild when they change.
fn main() {
    println!("cargo:rerun-if-changed=../../rules/java");
    println!("cargo:rerun-if-changed=../../rules/python");
    println!("cargo:rerun-if-changed=../../rules/go");
    println!("cargo:rerun-if-changed=../../rules/javascript");
}
