//! Rule matching at calls, stores and returns: sources, sanitizers, sinks and pattern
//! rules, and the findings they report.

use super::*;
use crate::rules::CallSpec;
use vigil_core::{FlowStep, Location};

/// Type given to an XML parser that resolves external entities.
const UNSAFE_PARSER: &str = "UnsafeXmlParser";

impl<'p> Engine<'p> {
    /// `parser.setFeature(external_entities, True)`: the parser now resolves external entities.
    pub(super) fn mark_unsafe_parser(
        &mut self,
        fr: &Frame<'p>,
        st: &mut State<'p>,
        c: &'p Call,
        site: &Site,
        args: &[Val<'p>],
    ) {
        let lib = self.rules.lib;
        let enables = args
            .last()
            .and_then(|a| a.konst.as_ref())
            .is_some_and(truthy);
        if !enables
            || !lib
                .unsafe_parsers
                .iter()
                .any(|s| self.spec_matches(s, site, args, &[]))
        {
            return;
        }
        if let Some(path) = c.receiver.as_ref().and_then(|r| r.dotted()) {
            let mut v = st.get(&path).cloned().unwrap_or_default();
            v.ty = Some(UNSAFE_PARSER.into());
            self.write_path(fr, st, &path, v);
        }
    }

    /// The label of the source a call is, and the rules its data is dangerous for.
    pub(super) fn source_label(&self, site: &Site, args: &[Val<'p>]) -> Option<(String, Mask)> {
        for spec in &self.rules.lib.sources {
            if self.spec_matches(spec, site, args, &[]) {
                let label = spec
                    .label
                    .clone()
                    .unwrap_or_else(|| "untrusted input".into());
                let mask = self.source_mask(spec);
                if mask != 0 {
                    return Some((label, mask));
                }
            }
        }
        None
    }

    /// A call that puts a value into a state of the library's `states`
    /// (`factory.setFeature(DISALLOW_DOCTYPE, true)`): the state's type, for the call's
    /// result; a method's receiver variable gets it too.
    pub(super) fn mark_state(
        &mut self,
        fr: &Frame<'p>,
        st: &mut State<'p>,
        c: Option<&'p Call>,
        site: &Site,
        args: &[Val<'p>],
        kwargs: &[(&'p str, Val<'p>)],
    ) -> Option<Rc<str>> {
        let lib = self.rules.lib;
        let text = |i: usize| -> String {
            let v = args.get(i);
            match (
                v.and_then(|a| a.konst.as_ref()),
                c.and_then(|c| c.args.get(i)),
            ) {
                (Some(l), _) => self.sem.const_text(l),
                (None, Some(e)) if e.dotted().is_some() => e.dotted().unwrap_or_default(),
                _ => v.and_then(|a| a.ty.as_deref()).unwrap_or("").to_string(),
            }
        };
        let state = lib.states.iter().find(|s| {
            let hit = if site.is_new {
                let q = site.qual.as_deref().unwrap_or("");
                s.new.iter().any(|n| n == q || simple_type(n) == site.name)
            } else {
                (site.has_value_receiver
                    && s.methods.iter().any(|m| m == site.name)
                    && (s.types.is_empty()
                        || site
                            .recv_ty
                            .as_deref()
                            .is_some_and(|t| s.types.iter().any(|x| x == t))))
                    || site
                        .qual
                        .as_deref()
                        .is_some_and(|q| s.calls.iter().any(|p| qual_matches(q, p)))
            };
            // Headers given as an object (`res.set({ 'Content-Type': 'text/xml' })`,
            // `res.writeHead(200, { .. })`): a key matching `name` whose constant matches
            // `value`.
            let in_object = || {
                let (Some(name_re), Some(value_re)) = (&s.name_re, &s.value_re) else {
                    return false;
                };
                args.iter().any(|a| {
                    matches!(a.elems.as_deref(), Some(Elems::Map(m)) if m.iter().any(|(k, v)| {
                        name_re.is_match(k)
                            && v.konst
                                .as_ref()
                                .is_some_and(|l| value_re.is_match(&self.sem.const_text(l)))
                    }))
                })
            };
            hit && ((s.name_re.as_ref().is_none_or(|re| re.is_match(&text(0)))
                && s.value_re
                    .as_ref()
                    .is_none_or(|re| !args.is_empty() && re.is_match(&text(args.len() - 1))))
                || in_object())
                && s.kwarg.as_ref().is_none_or(|k| {
                    kwargs.iter().any(|(n, v)| {
                        n == k
                            && s.kwarg_re.as_ref().is_none_or(|re| {
                                v.konst
                                    .as_ref()
                                    .is_some_and(|l| re.is_match(&self.sem.const_text(l)))
                            })
                    })
                })
        })?;
        let ty: Rc<str> = state.ty.as_str().into();
        if !site.is_new
            && site.has_value_receiver
            && let Some(path) = c.and_then(|c| c.receiver.as_ref()).and_then(|r| r.dotted())
            && self.is_value_ref(fr, st, &path)
        {
            let mut v = st.get(&path).cloned().unwrap_or_default();
            v.ty = Some(ty.clone());
            self.write_path(fr, st, &path, v);
        }
        Some(ty)
    }

    pub(super) fn return_type(&self, site: &Site) -> Option<Rc<str>> {
        for r in &self.rules.lib.returns {
            if r.methods.iter().any(|m| m == site.name)
                && (r.types.is_empty()
                    || site
                        .recv_ty
                        .as_deref()
                        .is_some_and(|t| r.types.iter().any(|x| x == t))
                    || site
                        .qual
                        .as_deref()
                        .is_some_and(|q| r.types.iter().any(|x| q == format!("{x}.{}", site.name))))
            {
                return Some(r.ty.as_str().into());
            }
        }
        None
    }

    pub(super) fn spec_matches(
        &self,
        spec: &CallSpec,
        site: &Site,
        args: &[Val<'p>],
        kwargs: &[(&'p str, Val<'p>)],
    ) -> bool {
        let mut hit = false;
        if site.is_new {
            let q = site.qual.as_deref().unwrap_or("");
            hit = spec
                .new
                .iter()
                .any(|n| n == q || simple_type(n) == site.name);
        } else {
            if let Some(q) = &site.qual {
                hit = spec.calls.iter().any(|c| qual_matches(q, c));
            }
            if !hit
                && !spec.methods.is_empty()
                && site.has_value_receiver
                && spec.methods.iter().any(|m| m == site.name)
            {
                hit = if spec.types.is_empty() {
                    true
                } else {
                    match &site.recv_ty {
                        Some(t) => spec.types.iter().any(|x| x == t.as_ref()),
                        None => spec.untyped,
                    }
                };
            }
        }
        if !hit {
            return false;
        }
        if let (Some(k), Some(re)) = (&spec.unless_kwarg, &spec.unless_re)
            && let Some(v) = option_value(args, kwargs, k)
        {
            let text = match (&v.konst, &v.ty) {
                (Some(l), _) => self.sem.const_text(l),
                (None, Some(t)) => t.to_string(),
                _ => String::new(),
            };
            if re.is_match(&text) {
                return false;
            }
        }
        if spec.rooted && !site.rooted_first_arg {
            return false;
        }
        if let Some(i) = spec.typed_arg
            && !args
                .get(i)
                .and_then(|a| a.ty.as_deref())
                .is_some_and(|t| spec.arg_types.iter().any(|x| x == t))
        {
            return false;
        }
        if let Some(i) = spec.parser_arg
            && args
                .get(i)
                .or_else(|| kwargs.iter().find(|(n, _)| *n == "parser").map(|(_, v)| v))
                .and_then(|a| a.ty.as_deref())
                != Some(UNSAFE_PARSER)
        {
            return false;
        }
        if let Some(re) = &spec.compiled {
            // A module constant we cannot fold (`ssl.CERT_NONE`) is compared by its name.
            let text_of = |v: &Val<'p>| match (&v.konst, &v.ty) {
                (Some(l), _) => Some(self.sem.const_text(l)),
                (None, Some(t)) if v.module_path.is_some() => Some(t.to_string()),
                _ => None,
            };
            let text = if let Some(k) = &spec.kwarg {
                match option_value(args, kwargs, k) {
                    Some(v) => text_of(v),
                    None => return spec.missing,
                }
            } else {
                args.get(spec.arg.unwrap_or(0)).and_then(text_of)
            };
            return text.is_some_and(|t| re.is_match(&t));
        }
        true
    }

    pub(super) fn sanitize(
        &self,
        site: &Site,
        args: &[Val<'p>],
        kwargs: &[(&'p str, Val<'p>)],
        t: Option<Taint>,
    ) -> Option<Taint> {
        let t = t?;
        let mut keep = Mask::MAX;
        for (bit, rule) in &self.rules.taint {
            if rule
                .sanitizers
                .iter()
                .any(|s| self.spec_matches(s, site, args, kwargs) || name_matches(s, site.name))
            {
                keep &= !(bit | bit.checked_shl(CONSTRUCTED_SHIFT).unwrap_or(0));
            }
        }
        restrict(Some(t), keep)
    }

    /// Sinks of taint rules and pattern rules at a call.
    pub(super) fn check_call(
        &mut self,
        fr: &Frame<'p>,
        site: &Site,
        recv: Option<&Val<'p>>,
        args: &[Val<'p>],
        kwargs: &[(&'p str, Val<'p>)],
        span: Span,
    ) {
        let rules = self.rules;
        for (bit, rule) in &rules.taint {
            for spec in &rule.sinks {
                if !self.spec_matches(spec, site, args, kwargs)
                    || !self.file_imports(fr.file, &spec.imports)
                {
                    continue;
                }
                let mut t: Option<Taint> = None;
                let taint_of = |a: &Val<'p>| match &spec.argv_re {
                    Some(re) => argv_taint(self.sem, re, a),
                    None => a.all_taint(),
                };
                if spec.kwargs.is_empty() || spec.args.is_some() {
                    for (i, a) in args.iter().enumerate() {
                        if spec.args.as_ref().is_none_or(|s| s.contains(&i))
                            && !(spec.text_args && is_structured(a))
                        {
                            t = union(t, taint_of(a).as_ref());
                        }
                    }
                }
                for (k, a) in kwargs {
                    if spec.kwargs.iter().any(|x| x == k) {
                        t = union(t, taint_of(a).as_ref());
                    }
                }
                if spec.returns_of.is_empty() && spec.args.as_ref().is_some_and(|a| a.is_empty()) {
                    t = union(t, recv.and_then(|r| r.all_taint()).as_ref());
                }
                if let Some(t) = t.filter(|t| t.mask & bit != 0) {
                    self.report(rule, fr.file, span, Some(&t), site.name);
                    break;
                }
            }
        }
        for rule in &rules.patterns {
            if rule.matches.iter().any(|m| {
                self.spec_matches(m, site, args, kwargs)
                    && self.context_matches(m, fr)
                    && m.functions_re
                        .as_ref()
                        .is_none_or(|re| fr.func.is_some_and(|f| re.is_match(&f.name)))
            }) {
                self.report(rule, fr.file, span, None, site.name);
            }
        }
    }

    /// `file` imports one of `packages`, or a project module it imports (to three levels)
    /// does; true when `packages` is empty.
    fn file_imports(&mut self, file: usize, packages: &Vec<String>) -> bool {
        if packages.is_empty() {
            return true;
        }
        let key = (file, packages as *const Vec<String>);
        if let Some(&known) = self.imports_seen.get(&key) {
            return known;
        }
        let is_package = |path: &str| {
            packages.iter().any(|p| {
                path == p
                    || path
                        .strip_prefix(p.as_str())
                        .is_some_and(|r| r.starts_with('.'))
            })
        };
        let mut seen = vec![file];
        let mut level = vec![file];
        let mut found = false;
        'search: for _ in 0..3 {
            let mut next = Vec::new();
            for &f in &level {
                for imp in &self.idx.units[f].module.imports {
                    if is_package(&imp.path) {
                        found = true;
                        break 'search;
                    }
                    // `import { User } from './models/user'` names a member of the module.
                    let mut files = self.idx.modules_named(&imp.path);
                    if files.is_empty()
                        && let Some((module, _)) = imp.path.rsplit_once('.')
                    {
                        files = self.idx.modules_named(module);
                    }
                    for &g in files {
                        if !seen.contains(&g) {
                            seen.push(g);
                            next.push(g);
                        }
                    }
                }
            }
            level = next;
        }
        self.imports_seen.insert(key, found);
        found
    }

    /// A pattern's `context` condition: the statement's text or the enclosing function's
    /// name says what the value is for (`token`, `password`).
    fn context_matches(&self, spec: &CallSpec, fr: &Frame<'p>) -> bool {
        let Some(re) = &spec.context_re else {
            return true;
        };
        // A function named for what it makes (`resetToken`, not `scheduleTokenCleanup`).
        if fr
            .func
            .is_some_and(|f| re.find_iter(&f.name).any(|m| m.end() == f.name.len()))
        {
            return true;
        }
        let Some(sp) = fr.stmt_span else { return false };
        let source = &self.idx.units[fr.file].source;
        let first = sp.start_line.saturating_sub(1) as usize;
        let count = (sp.end_line.saturating_sub(sp.start_line) as usize + 1).min(20);
        // Only the statement's own text: a comment after it on the line does not count.
        source
            .lines()
            .skip(first)
            .take(count)
            .enumerate()
            .any(|(i, line)| {
                let end = if i + 1 == count && sp.end_line >= sp.start_line {
                    (sp.end_col.saturating_sub(1) as usize).min(line.len())
                } else {
                    line.len()
                };
                let start = if i == 0 {
                    (sp.start_col.saturating_sub(1) as usize).min(end)
                } else {
                    0
                };
                line.get(start..end).is_some_and(|t| re.is_match(t))
            })
    }

    /// `session[key] = value` style sinks: stores into a named object.
    pub(super) fn check_store_sink(
        &mut self,
        fr: &mut Frame<'p>,
        st: &mut State<'p>,
        obj: &'p Expr,
        key: &Val<'p>,
        v: &Val<'p>,
        span: Span,
    ) {
        let Some(d) = obj.dotted() else { return };
        if self.is_value_ref(fr, st, &d) {
            return;
        }
        let qual = self.qualify_static(fr.file, &d);
        let rules = self.rules;
        for (bit, rule) in &rules.taint {
            for spec in &rule.sinks {
                if spec.stores.iter().any(|a| qual_matches(&qual, a)) {
                    let t = union(key.all_taint(), v.all_taint().as_ref());
                    if let Some(t) = t.filter(|t| t.mask & bit != 0) {
                        self.report(rule, fr.file, span, Some(&t), &d);
                    }
                }
            }
        }
    }

    /// `el.innerHTML = v` style sinks: a store into an attribute of any value, or of a value
    /// of the spec's `types` (Koa's `ctx.body = v`, where an object is answered as JSON).
    pub(super) fn check_field_store(
        &mut self,
        fr: &Frame<'p>,
        st: &State<'p>,
        obj: &'p Expr,
        name: &str,
        v: &Val<'p>,
        span: Span,
    ) {
        let Some(t) = v.all_taint() else { return };
        let obj_ty = obj
            .dotted()
            .and_then(|d| st.get(&d))
            .and_then(|o| o.ty.clone());
        let is_object = matches!(v.ty.as_deref(), Some("dict" | "list"));
        let rules = self.rules;
        for (bit, rule) in &rules.taint {
            if t.mask & bit != 0
                && rule.sinks.iter().any(|spec| {
                    spec.field_stores.iter().any(|f| f == name)
                        && (spec.types.is_empty()
                            || (!is_object
                                && obj_ty
                                    .as_deref()
                                    .is_some_and(|o| spec.types.iter().any(|x| x == o))))
                })
            {
                let shown = match obj.dotted() {
                    Some(d) => format!("{d}.{name}"),
                    None => name.to_string(),
                };
                self.report(rule, fr.file, span, Some(&t), &shown);
            }
        }
    }

    /// `obj[a][b] = v` where both keys are attacker data: with `a = "__proto__"` the store
    /// reaches the prototype every object shares.
    pub(super) fn check_nested_key_store(
        &mut self,
        fr: &Frame<'p>,
        outer: &Val<'p>,
        inner: &Val<'p>,
        v: &Val<'p>,
        span: Span,
    ) {
        let (Some(a), Some(b)) = (outer.all_taint(), inner.all_taint()) else {
            return;
        };
        // A fresh empty object (`if (!t[k]) t[k] = {}`) under `__proto__` replaces one
        // object's prototype, not the shared one.
        if v.all_taint().is_none() && v.elems.is_some() {
            return;
        }
        let rules = self.rules;
        for (bit, rule) in &rules.taint {
            if lifted(a.mask) & lifted(b.mask) & bit != 0
                && rule.sinks.iter().any(|spec| spec.nested_keys)
            {
                let t = union(Some(a.clone()), v.all_taint().as_ref());
                self.report(rule, fr.file, span, t.as_ref(), "obj[key][key] = value");
            }
        }
    }

    /// A string literal stored under a name that says it is a credential.
    pub(super) fn check_secret(&mut self, file: usize, name: &str, text: &str, span: Span) {
        if text.chars().count() < 4 || text.chars().all(|c| c == '*' || c == 'x' || c == 'X') {
            return;
        }
        // Names and labels (`'core'`, `'admin_session'`), not credentials: one lowercase word.
        if text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '_' || c == '-' || c == '.')
        {
            return;
        }
        // Labels and placeholders ("Password", "${DB_PASSWORD}") are not secrets.
        let lower = text.to_ascii_lowercase();
        if [
            "password",
            "secret",
            "key",
            "token",
            "${",
            "{{",
            "<",
            "changeme",
            "not_available",
            "not_set",
            "placeholder",
            "your_",
            "your-",
        ]
        .iter()
        .any(|w| lower.contains(w))
        {
            return;
        }
        let rules = self.rules;
        for rule in &rules.patterns {
            if rule
                .matches
                .iter()
                .any(|m| m.assigns_re.as_ref().is_some_and(|re| re.is_match(name)))
            {
                self.report(rule, file, span, None, name);
            }
        }
    }

    pub(super) fn check_view_return(&mut self, fr: &Frame<'p>, v: &Val<'p>, span: Span) {
        // A view that returns a dict answers with JSON (Flask, FastAPI), not a page.
        if v.ty.as_deref() == Some("dict") {
            return;
        }
        let rules = self.rules;
        for (bit, rule) in &rules.taint {
            for spec in &rule.sinks {
                if spec
                    .returns_of
                    .iter()
                    .any(|d| fr.view_decorators.contains(d))
                    && (spec.return_types.is_empty()
                        || fr
                            .func
                            .and_then(|f| f.ret_ty.as_deref())
                            .is_some_and(|t| spec.return_types.contains(&simple_type(t))))
                    && (spec.handler_annotations.is_empty()
                        || fr.func.is_some_and(|f| {
                            decorator_names(f)
                                .iter()
                                .any(|d| spec.handler_annotations.contains(d))
                        }))
                    && let Some(t) = v.all_taint().filter(|t| t.mask & bit != 0)
                {
                    self.report(rule, fr.file, span, Some(&t), "response");
                }
            }
        }
    }

    pub(super) fn report(
        &mut self,
        rule: &Rule,
        file: usize,
        span: Span,
        taint: Option<&Taint>,
        sink: &str,
    ) {
        let unit = &self.idx.units[file];
        // tree-sitter columns count bytes; reports count characters.
        let loc = |f: usize, s: Span| {
            let src = &self.idx.units[f].source;
            Location {
                path: self.idx.units[f].path.clone(),
                start_line: s.start_line,
                start_column: char_column(src, s.start_line, s.start_col),
                end_line: s.end_line,
                end_column: char_column(src, s.end_line, s.end_col),
            }
        };
        let mut path = Vec::new();
        let mut source = String::new();
        if let Some(t) = taint {
            let steps = t.steps();
            for (i, s) in steps.iter().enumerate() {
                if source.is_empty() {
                    source = s.msg.clone();
                }
                // A source read from an attribute has no span of its own: it is where the
                // next step (its assignment) is, in the same file.
                let (f, sp) = if s.span == Span::default() {
                    steps
                        .get(i + 1)
                        .filter(|n| n.file == s.file && n.span != Span::default())
                        .map(|n| (n.file, n.span))
                        .unwrap_or((file, span))
                } else {
                    (s.file, s.span)
                };
                path.push(FlowStep {
                    location: loc(f, sp),
                    message: s.msg.clone(),
                });
            }
            path.push(FlowStep {
                location: loc(file, span),
                message: format!("reaches `{sink}`"),
            });
        }
        let snippet = unit
            .source
            .lines()
            .nth(span.start_line.saturating_sub(1) as usize)
            .unwrap_or("")
            .trim()
            .to_string();
        let mut message = rule.message.replace("{sink}", sink);
        if !source.is_empty() {
            message = message.replace("{source}", &source);
        } else {
            message = message.replace("{source}", "untrusted input");
        }
        self.findings.push(Finding {
            rule_id: rule.id.clone(),
            cwe: rule.cwe.clone(),
            severity: rule.severity,
            confidence: rule.confidence,
            message,
            location: loc(file, span),
            path,
            snippet,
            triage: None,
            suppression: None,
        });
    }
}

/// The taint of an argument vector that matters: a constant program that is not a shell or
/// an interpreter (`["ls", "-l", name]`) runs with whatever arguments, so only the program
/// itself (or the list as a whole, where its elements are not known) can be injected.
fn argv_taint<'p>(
    sem: &dyn LanguageSemantics,
    shells: &regex::Regex,
    a: &Val<'p>,
) -> Option<Taint> {
    if let Some(e) = &a.elems
        && let Elems::List(items) = &**e
        && let Some(first) = items.first()
        && let Some(prog) = &first.konst
        && !shells.is_match(&sem.const_text(prog))
    {
        return union(a.taint.clone(), first.all_taint().as_ref());
    }
    a.all_taint()
}

/// A struct, map or object value: fields by name, no text of its own.
fn is_structured(v: &Val) -> bool {
    v.konst.is_none()
        && v.elems
            .as_deref()
            .is_some_and(|e| matches!(e, Elems::Map(_)))
}

pub(super) fn path_has_prefix(path: &str, prefix: &str) -> bool {
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|r| r.starts_with('.'))
}

/// A keyword argument, or without keywords, the key of an options object passed after the
/// first argument (`res.sendFile(p, options, callback)` where `options = { root: dir }`).
fn option_value<'a, 'p>(
    args: &'a [Val<'p>],
    kwargs: &'a [(&'p str, Val<'p>)],
    name: &str,
) -> Option<&'a Val<'p>> {
    if let Some((_, v)) = kwargs.iter().find(|(n, _)| *n == name) {
        return Some(v);
    }
    if !kwargs.is_empty() {
        return None;
    }
    args.iter().skip(1).find_map(|a| match a.elems.as_deref() {
        Some(Elems::Map(m)) => m.get(name),
        _ => None,
    })
}

/// `q` is the resolved name of a call; `pattern` a rule's name (suffix on segment boundary,
/// or `prefix.*`). `builtins.open` is the built-in `open` itself, not any `x.open`.
pub(super) fn qual_matches(q: &str, pattern: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix(".*") {
        return q.strip_prefix(prefix).is_some_and(|r| r.starts_with('.'));
    }
    if let Some(name) = pattern.strip_prefix("builtins.") {
        return q == name || q == pattern;
    }
    q == pattern || q.strip_suffix(pattern).is_some_and(|r| r.ends_with('.'))
}

pub(super) fn name_matches(spec: &CallSpec, name: &str) -> bool {
    spec.name_re.as_ref().is_some_and(|re| re.is_match(name))
}

/// The 1-based character column of a 1-based byte column on a line.
pub(super) fn char_column(source: &str, line: u32, byte_col: u32) -> u32 {
    let Some(text) = source.lines().nth(line.saturating_sub(1) as usize) else {
        return byte_col;
    };
    let byte = (byte_col.saturating_sub(1) as usize).min(text.len());
    let chars = text.char_indices().take_while(|(i, _)| *i < byte).count();
    chars as u32 + 1
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn rule_names_match_on_segment_boundaries() {
        assert!(qual_matches("os.system", "os.system"));
        assert!(qual_matches("java.lang.Runtime.exec", "Runtime.exec"));
        assert!(!qual_matches("myos.system", "os.system"));
        assert!(qual_matches("subprocess.run", "subprocess.*"));
        assert!(!qual_matches("subprocess", "subprocess.*"));
        assert!(!qual_matches("subprocessx.run", "subprocess.*"));
        assert!(qual_matches("open", "builtins.open"));
        assert!(qual_matches("builtins.open", "builtins.open"));
        assert!(!qual_matches("PIL.Image.open", "builtins.open"));
        assert!(!qual_matches("ZipFile.open", "builtins.open"));
        assert!(path_has_prefix(
            "flask.request.args.get",
            "flask.request.args"
        ));
        assert!(!path_has_prefix(
            "flask.request.argsx",
            "flask.request.args"
        ));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let src = "a\nhé = x\n";
        assert_eq!(char_column(src, 2, 1), 1);
        // `=` is byte 5 on the line but character 4.
        assert_eq!(char_column(src, 2, 5), 4);
        assert_eq!(char_column(src, 9, 7), 7);
    }

    #[test]
    fn sanitizers_clear_only_what_they_make_safe() {
        let src = r#"import os
def f():
    os.system(str(int(input())))
    os.system(str(input()))
"#;
        assert_eq!(lines("s.py", src, "python/command-injection"), [4]);
    }

    #[test]
    fn secrets_are_literals_under_credential_names_but_not_placeholders() {
        let src = "password = \"hunter2abc\"\napi_token = \"changeme\"\nname = \"hunter2abc\"\n";
        assert_eq!(lines("c.py", src, "python/hardcoded-secret"), [1]);
    }

    #[test]
    fn view_return_values_reach_the_response() {
        let src = r#"from flask import Flask, request
app = Flask(__name__)
@app.route("/a")
def a():
    return request.args.get("q")
@app.route("/b")
def b():
    return "ok"
"#;
        assert_eq!(lines("v.py", src, "python/xss"), [5]);
    }
}
