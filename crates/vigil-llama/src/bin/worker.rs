//! `vigil-model-worker --model FILE.gguf [--context N] [--threads N] [--gpu-layers N]`:
//! the process Vigil starts to run a local model (see the library docs).

use std::path::PathBuf;
use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage: vigil-model-worker --model FILE.gguf [--context N] [--threads N] [--gpu-layers N]\n\
         Started by vigil; reads chat requests as JSON lines on standard input."
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut opts = vigil_llama::WorkerOptions {
        model: PathBuf::new(),
        context: 4096,
        threads: 0,
        gpu_layers: 0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let Some(value) = args.next() else {
            return usage();
        };
        let number = || value.parse::<u32>().ok();
        match a.as_str() {
            "--model" => opts.model = PathBuf::from(&value),
            "--context" => match number() {
                Some(n) => opts.context = n,
                None => return usage(),
            },
            "--threads" => match number() {
                Some(n) => opts.threads = n,
                None => return usage(),
            },
            "--gpu-layers" => match number() {
                Some(n) => opts.gpu_layers = n,
                None => return usage(),
            },
            _ => return usage(),
        }
    }
    if opts.model.as_os_str().is_empty() {
        return usage();
    }
    match vigil_llama::run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vigil-model-worker: {e}");
            ExitCode::from(1)
        }
    }
}
