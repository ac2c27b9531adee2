//! The builtin binder against CPython's own: every builtin's signature (as `name?` shows it)
//! becomes a Python `def NAME(<params>): pass` (defaults replaced by `None`), a seeded set of
//! call shapes (positional counts from 0 to one past the parameters, keyword subsets of the
//! parameter names plus `bogus`, a keyword repeating a parameter already given by position)
//! is run through `python3` once for the whole batch, and the same calls, `NAME(1, 1, key=1)`,
//! run as cells of one Kiln session. Where CPython's binding fails, Kiln must raise a
//! TypeError with the same text; where CPython binds, Kiln may fail for other reasons (values
//! of the wrong type, `zeros(1, dtype=1)`) but not with a binding message.
use kiln_jit::{ExecResult, Session};
use std::collections::HashSet;
use std::io::Write;
use std::process::{Command, Stdio};

/// Builtins skipped, with why.
const SKIPPED: &[(&str, &str)] = &[
    // A statement in Kiln (`print(...)` is parsed as one), not a call to bind.
    ("print", "a statement in Kiln"),
    // Loop syntax: only meaningful as the iterable of a `for`.
    ("range", "loop syntax"),
    ("prange", "loop syntax"),
    ("ndrange", "loop syntax"),
];

/// At most this many call shapes per builtin.
const MAX_SHAPES: usize = 40;

/// Fragments that only binding messages have.
const BINDING_FRAGMENTS: &[&str] = &[
    "positional argument",
    "keyword argument",
    "multiple values for argument",
    "required positional",
    "positional-only",
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Positional,
    Either,
    Star,
    Keyword,
}

#[derive(Debug)]
struct Param {
    name: String,
    kind: Kind,
    has_default: bool,
}

#[derive(Debug)]
struct Sig {
    name: String,
    params: Vec<Param>,
}

/// Split at the commas outside brackets and quotes.
fn split_top(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut cur = String::new();
    for c in s.chars() {
        if let Some(q) = quote {
            cur.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                cur.push(c);
            }
            '(' | '[' | '{' => {
                depth += 1;
                cur.push(c);
            }
            ')' | ']' | '}' => {
                depth -= 1;
                cur.push(c);
            }
            ',' if depth == 0 => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        parts.push(cur);
    }
    parts.into_iter().map(|p| p.trim().to_string()).collect()
}

/// `sqrt(x, /)`, `min(*args, axis=None)`, `imshow(X, /, *, cmap='viridis')`, with an alias's
/// `  (also NAME)` suffix stripped.
fn parse_signature(sig: &str) -> Sig {
    let sig = match sig.find("  (also ") {
        Some(k) => &sig[..k],
        None => sig,
    };
    let open = sig.find('(').expect("a signature has '('");
    assert!(
        sig.ends_with(')'),
        "signature {sig:?} does not end with ')'"
    );
    let name = sig[..open].to_string();
    let mut params: Vec<Param> = Vec::new();
    let mut keyword_only = false;
    for part in split_top(&sig[open + 1..sig.len() - 1]) {
        if part == "/" {
            for p in &mut params {
                p.kind = Kind::Positional;
            }
        } else if part == "*" {
            keyword_only = true;
        } else if let Some(rest) = part.strip_prefix('*') {
            assert!(
                !rest.starts_with('*'),
                "`**{rest}` in {sig:?}: not handled by this test"
            );
            params.push(Param {
                name: rest.to_string(),
                kind: Kind::Star,
                has_default: false,
            });
            keyword_only = true;
        } else {
            let (pname, has_default) = match part.find('=') {
                Some(k) => (part[..k].trim().to_string(), true),
                None => (part.clone(), false),
            };
            params.push(Param {
                name: pname,
                kind: if keyword_only {
                    Kind::Keyword
                } else {
                    Kind::Either
                },
                has_default,
            });
        }
    }
    Sig { name, params }
}

/// The signature as a Python `def`, every default replaced by `None`.
fn python_def(sig: &Sig) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut starred = false;
    for (k, p) in sig.params.iter().enumerate() {
        let text = if p.has_default {
            format!("{}=None", p.name)
        } else {
            p.name.clone()
        };
        match p.kind {
            Kind::Positional => {
                parts.push(text);
                if sig.params.get(k + 1).map(|q| q.kind) != Some(Kind::Positional) {
                    parts.push("/".into());
                }
            }
            Kind::Either => parts.push(text),
            Kind::Star => {
                starred = true;
                parts.push(format!("*{}", p.name));
            }
            Kind::Keyword => {
                if !starred {
                    starred = true;
                    parts.push("*".into());
                }
                parts.push(text);
            }
        }
    }
    format!("def {}({}): pass", sig.name, parts.join(", "))
}

/// SplitMix64: a small seeded generator, so the shapes are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// A call shape: how many positional `1`s, then these keywords (in this order) `=1`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct Shape {
    positional: usize,
    keywords: Vec<String>,
}

fn call_text(name: &str, shape: &Shape) -> String {
    let mut args: Vec<String> = vec!["1".to_string(); shape.positional];
    args.extend(shape.keywords.iter().map(|k| format!("{k}=1")));
    format!("{name}({})", args.join(", "))
}

/// The shapes of one builtin: every positional count alone, every count with a keyword that
/// repeats the last positional parameter given, then seeded random keyword subsets (of the
/// parameter names, `*args`'s included, and `bogus`, in random order) up to `MAX_SHAPES`.
fn shapes(sig: &Sig, rng: &mut Rng) -> Vec<Shape> {
    let np = sig.params.len();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut add = |s: Shape, out: &mut Vec<Shape>| {
        if out.len() < MAX_SHAPES && seen.insert(s.clone()) {
            out.push(s);
        }
    };
    for n in 0..=np + 1 {
        add(
            Shape {
                positional: n,
                keywords: vec![],
            },
            &mut out,
        );
    }
    // A keyword for a parameter already given by position (the positional ones included).
    let by_position = sig
        .params
        .iter()
        .take_while(|p| matches!(p.kind, Kind::Positional | Kind::Either))
        .count();
    for n in 1..=by_position.min(np) {
        add(
            Shape {
                positional: n,
                keywords: vec![sig.params[n - 1].name.clone()],
            },
            &mut out,
        );
    }
    let mut pool: Vec<String> = sig.params.iter().map(|p| p.name.clone()).collect();
    pool.push("bogus".to_string());
    for _ in 0..2000 {
        if out.len() >= MAX_SHAPES {
            break;
        }
        let n = rng.below(np + 2);
        let k = 1 + rng.below(pool.len().min(3));
        let mut names = pool.clone();
        rng.shuffle(&mut names);
        names.truncate(k);
        add(
            Shape {
                positional: n,
                keywords: names,
            },
            &mut out,
        );
    }
    out
}

/// One JSON string literal from the start of `s` (after optional spaces); the rest.
fn json_string(s: &str) -> (String, &str) {
    let s = s.trim_start();
    let mut chars = s.char_indices();
    assert_eq!(
        chars.next().map(|c| c.1),
        Some('"'),
        "not a JSON string: {s:?}"
    );
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (out, &s[i + 1..]),
            '\\' => {
                let (_, e) = chars.next().expect("an escape");
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'u' => {
                        let hex: String = (0..4).map(|_| chars.next().unwrap().1).collect();
                        let code = u32::from_str_radix(&hex, 16).unwrap();
                        out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                    }
                    other => out.push(other),
                }
            }
            c => out.push(c),
        }
    }
    panic!("unterminated JSON string: {s:?}")
}

/// CPython's outcome of one call.
#[derive(Debug)]
enum Py {
    Ok,
    /// An exception: its type name and message.
    Raised(String, String),
}

/// One JSON line from the script: `[i, "ok"]` or `[i, "TypeError", "message"]`.
fn parse_line(line: &str) -> (usize, Py) {
    let body = line
        .trim()
        .strip_prefix('[')
        .and_then(|l| l.strip_suffix(']'))
        .unwrap_or_else(|| panic!("bad line from python3: {line:?}"));
    let comma = body.find(',').unwrap();
    let i: usize = body[..comma].trim().parse().unwrap();
    let (first, rest) = json_string(&body[comma + 1..]);
    if first == "ok" {
        return (i, Py::Ok);
    }
    let rest = rest.trim_start().strip_prefix(',').unwrap();
    let (msg, _) = json_string(rest);
    (i, Py::Raised(first, msg))
}

/// Run every `(def, call)` in one `python3`.
fn ask_cpython(cases: &[(String, String)]) -> Vec<Py> {
    let mut script = String::from(
        "import json\n\
         def run(i, d, c):\n\
         \x20   ns = {}\n\
         \x20   exec(d, ns)\n\
         \x20   try:\n\
         \x20       exec(c, ns)\n\
         \x20       r = [i, 'ok']\n\
         \x20   except BaseException as e:\n\
         \x20       r = [i, type(e).__name__, str(e)]\n\
         \x20   print(json.dumps(r))\n",
    );
    for (i, (d, c)) in cases.iter().enumerate() {
        // The texts are ASCII names, `1`, `None`, `=`, `,`, `/`, `*`: no quoting needed
        // beyond Rust's `{:?}`, which Python reads the same.
        assert!(d.is_ascii() && !d.contains(['\'', '"', '\\']), "{d}");
        script.push_str(&format!("run({i}, {d:?}, {c:?})\n"));
    }
    let mut child = Command::new("python3")
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python3 failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut results: Vec<Option<Py>> = (0..cases.len()).map(|_| None).collect();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (i, r) = parse_line(line);
        results[i] = Some(r);
    }
    results
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.unwrap_or_else(|| panic!("no answer from python3 for case {i}")))
        .collect()
}

#[test]
fn builtin_binding_errors_match_cpython() {
    let started = std::time::Instant::now();
    let mut rng = Rng(0x6b69_6c6e_6269_6e64);
    let mut cases: Vec<(String, String)> = Vec::new();
    let mut skipped = Vec::new();
    let mut names: Vec<&str> = kiln_jit::builtins::names().collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        if let Some((_, why)) = SKIPPED.iter().find(|(n, _)| *n == name) {
            skipped.push(format!("{name} ({why})"));
            continue;
        }
        let (signature, _) = kiln_jit::builtins::help(name).expect("every name has help");
        let mut sig = parse_signature(&signature);
        // An alias's signature is its own builtin's; CPython names the def, so call it `name`.
        sig.name = name.to_string();
        let def = python_def(&sig);
        for shape in shapes(&sig, &mut rng) {
            cases.push((def.clone(), call_text(name, &shape)));
        }
    }
    let cpython = ask_cpython(&cases);

    let mut session = Session::new();
    let mut failures: Vec<String> = Vec::new();
    let mut cpython_errors = 0;
    // `BINDER_VS_PYTHON_VERBOSE=1` prints every case with both outcomes.
    let verbose = std::env::var_os("BINDER_VS_PYTHON_VERBOSE").is_some();
    for ((def, call), py) in cases.iter().zip(&cpython) {
        let kiln = session.execute(&format!("{call}\n"), &mut |_| {});
        let kiln_err = match &kiln {
            ExecResult::Ok(_) => None,
            ExecResult::Err(e) => Some((e.ename.as_str(), e.evalue.as_str())),
        };
        if verbose {
            eprintln!("{call}\n    CPython: {py:?}\n    Kiln:    {kiln_err:?}");
        }
        match py {
            Py::Raised(ename, msg) if ename == "TypeError" => {
                cpython_errors += 1;
                if kiln_err != Some(("TypeError", msg.as_str())) {
                    failures.push(format!(
                        "{call}\n    def:     {def}\n    CPython: TypeError: {msg}\n    Kiln:    {}",
                        match kiln_err {
                            Some((n, m)) => format!("{n}: {m}"),
                            None => "no error".to_string(),
                        }
                    ));
                }
            }
            Py::Raised(ename, msg) => failures.push(format!(
                "{call}\n    def:     {def}\n    CPython raised {ename}: {msg} (not a binding error; \
                 the generated Python is wrong)"
            )),
            Py::Ok => {
                if let Some((n, m)) = kiln_err {
                    if BINDING_FRAGMENTS.iter().any(|f| m.contains(f)) {
                        failures.push(format!(
                            "{call}\n    def:     {def}\n    CPython: binds\n    Kiln:    {n}: {m}"
                        ));
                    }
                }
            }
        }
    }
    eprintln!(
        "binder_vs_python: {} cases ({} binding errors in CPython), skipped {}; {:.2?}",
        cases.len(),
        cpython_errors,
        skipped.join(", "),
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} of {} calls disagree with CPython:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
