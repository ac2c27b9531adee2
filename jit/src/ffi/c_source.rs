//! The exported functions of a `%%c` cell, read from its source: every file-scope function
//! *definition* that is not `static`, with the signature its prototype declares, as the
//! [`CSig`] a later cell calls it through.
//!
//! This is not a C parser: comments, string and character literals and preprocessor lines
//! are blanked out, object-like `#define`s and simple `typedef`s of the cell itself are
//! applied, and the declarations at brace depth 0 are read. A function whose types Kiln
//! cannot pass (structs, strings, pointers to pointers, ...) is still listed, with the
//! reason in `sig`, so the magic can say which functions it skipped and why.

use super::ctype::{ctypes_scalar, CScalar, CSig, CType, NdPointer, FLAG_C_CONTIGUOUS};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// One exported function definition of a cell.
#[derive(Clone, Debug, PartialEq)]
pub struct Prototype {
    pub name: String,
    /// 1-based line of the function's name.
    pub line: usize,
    /// The signature, or why Kiln cannot call the function.
    pub sig: Result<CSig, String>,
}

/// The non-`static` function definitions at file scope of `src`, in source order.
pub fn prototypes(src: &str) -> Vec<Prototype> {
    let (clean, directives) = sanitize(src);
    let macros = object_macros(&directives);
    let toks = expand(tokenize(&clean), &macros);
    Parser::default().run(&toks)
}

// ---------------------------------------------------------------------------------------
// Blanking comments, literals and preprocessor lines.

/// `src` with comments, string and char literals and preprocessor lines replaced by spaces
/// (newlines kept, so lines stay where they were), and the directives' text (comments
/// removed, `\` continuations joined, without the `#`).
fn sanitize(src: &str) -> (String, Vec<String>) {
    let mut s = Sanitizer {
        c: src.chars().collect(),
        i: 0,
        out: String::with_capacity(src.len()),
    };
    let mut directives = Vec::new();
    let mut line_start = true;
    while s.i < s.c.len() {
        let ch = s.c[s.i];
        if s.continuation() {
            continue;
        }
        match (ch, s.peek(1)) {
            ('/', Some('/')) => s.line_comment(),
            ('/', Some('*')) => s.block_comment(),
            ('"', _) | ('\'', _) => {
                s.literal(None);
                line_start = false;
            }
            ('#', _) if line_start => directives.push(s.directive()),
            _ => {
                s.out.push(ch);
                s.i += 1;
                if ch == '\n' {
                    line_start = true;
                } else if !ch.is_whitespace() {
                    line_start = false;
                }
            }
        }
    }
    (s.out, directives)
}

struct Sanitizer {
    c: Vec<char>,
    i: usize,
    out: String,
}

impl Sanitizer {
    fn peek(&self, k: usize) -> Option<char> {
        self.c.get(self.i + k).copied()
    }
    /// A blank for one source character: newlines stay.
    fn blank(&mut self, ch: char) {
        self.out.push(if ch == '\n' { '\n' } else { ' ' });
    }
    /// Consumes a backslash-newline (a line splice), keeping the newline.
    fn continuation(&mut self) -> bool {
        if self.peek(0) != Some('\\') {
            return false;
        }
        let n = match (self.peek(1), self.peek(2)) {
            (Some('\n'), _) => 2,
            (Some('\r'), Some('\n')) => 3,
            _ => return false,
        };
        for _ in 1..n {
            self.out.push(' ');
        }
        self.out.push('\n');
        self.i += n;
        true
    }
    /// `// ...` up to (not including) the end of its line; a splice continues it.
    fn line_comment(&mut self) {
        while let Some(ch) = self.peek(0) {
            if ch == '\n' {
                return;
            }
            if !self.continuation() {
                self.blank(ch);
                self.i += 1;
            }
        }
    }
    fn block_comment(&mut self) {
        self.out.push_str("  ");
        self.i += 2;
        while let Some(ch) = self.peek(0) {
            if ch == '*' && self.peek(1) == Some('/') {
                self.out.push_str("  ");
                self.i += 2;
                return;
            }
            self.blank(ch);
            self.i += 1;
        }
    }
    /// A string or char literal (an unterminated one ends at its line's end), blanked; its
    /// text is copied to `keep` where given.
    fn literal(&mut self, mut keep: Option<&mut String>) {
        let quote = self.c[self.i];
        let mut first = true;
        while let Some(ch) = self.peek(0) {
            if ch == '\n' {
                return;
            }
            if self.continuation() {
                continue;
            }
            if let Some(k) = keep.as_deref_mut() {
                k.push(ch);
            }
            self.blank(ch);
            self.i += 1;
            if ch == '\\' {
                if let Some(next) = self.peek(0) {
                    if next != '\n' {
                        if let Some(k) = keep.as_deref_mut() {
                            k.push(next);
                        }
                        self.blank(next);
                        self.i += 1;
                    }
                }
            } else if ch == quote && !first {
                return;
            }
            first = false;
        }
    }
    /// A preprocessor line from its `#` to its end (splices and multi-line comments
    /// included), blanked; returns its text after the `#`.
    fn directive(&mut self) -> String {
        let mut text = String::new();
        self.out.push(' ');
        self.i += 1;
        while let Some(ch) = self.peek(0) {
            if ch == '\n' {
                break;
            }
            if self.continuation() {
                continue;
            }
            match (ch, self.peek(1)) {
                ('/', Some('/')) => self.line_comment(),
                ('/', Some('*')) => {
                    self.block_comment();
                    text.push(' ');
                }
                ('"', _) | ('\'', _) => self.literal(Some(&mut text)),
                _ => {
                    text.push(ch);
                    self.blank(ch);
                    self.i += 1;
                }
            }
        }
        text
    }
}

// ---------------------------------------------------------------------------------------
// Tokens and object-like macros.

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    /// A number (or a literal the blanking left): its text does not matter here.
    Num(String),
    Punct(char),
    Ellipsis,
    /// A `{ ... }` that is not a function body (a struct's members, an initializer).
    Body,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    line: usize,
}

impl Token {
    fn is(&self, p: char) -> bool {
        self.tok == Tok::Punct(p)
    }
    fn ident(&self) -> Option<&str> {
        match &self.tok {
            Tok::Ident(s) => Some(s),
            _ => None,
        }
    }
}

fn tokenize(src: &str) -> Vec<Token> {
    let c: Vec<char> = src.chars().collect();
    let mut toks = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let ident_char = |ch: char| ch.is_alphanumeric() || ch == '_' || ch == '$';
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() || ch == '\\' {
            i += 1;
        } else if ch.is_ascii_digit()
            || (ch == '.' && c.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            while i < c.len() {
                let d = c[i];
                let exp_sign = (d == '+' || d == '-') && matches!(c[i - 1], 'e' | 'E' | 'p' | 'P');
                if !(ident_char(d) || d == '.' || exp_sign) {
                    break;
                }
                i += 1;
            }
            toks.push(Token {
                tok: Tok::Num(c[start..i].iter().collect()),
                line,
            });
        } else if ident_char(ch) {
            let start = i;
            while i < c.len() && ident_char(c[i]) {
                i += 1;
            }
            toks.push(Token {
                tok: Tok::Ident(c[start..i].iter().collect()),
                line,
            });
        } else if ch == '.' && c.get(i + 1) == Some(&'.') && c.get(i + 2) == Some(&'.') {
            toks.push(Token {
                tok: Tok::Ellipsis,
                line,
            });
            i += 3;
        } else {
            toks.push(Token {
                tok: Tok::Punct(ch),
                line,
            });
            i += 1;
        }
    }
    toks
}

/// The object-like `#define NAME tokens` of the cell (`#undef` removes one); function-like
/// macros are not expanded.
fn object_macros(directives: &[String]) -> HashMap<String, Vec<Tok>> {
    let mut macros = HashMap::new();
    for d in directives {
        let d = d.trim_start();
        let (word, rest) = split_word(d);
        match word {
            "define" => {
                let rest = rest.trim_start();
                let (name, body) = split_word(rest);
                if name.is_empty() || body.starts_with('(') {
                    continue;
                }
                let toks = tokenize(body).into_iter().map(|t| t.tok).collect();
                macros.insert(name.to_string(), toks);
            }
            "undef" => {
                macros.remove(split_word(rest.trim_start()).0);
            }
            _ => {}
        }
    }
    macros
}

fn split_word(s: &str) -> (&str, &str) {
    let end = s
        .find(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '$'))
        .unwrap_or(s.len());
    s.split_at(end)
}

/// `toks` with the object-like macros replaced (recursively, a macro not inside itself).
fn expand(toks: Vec<Token>, macros: &HashMap<String, Vec<Tok>>) -> Vec<Token> {
    fn go(
        tok: &Tok,
        line: usize,
        macros: &HashMap<String, Vec<Tok>>,
        active: &mut HashSet<String>,
        out: &mut Vec<Token>,
    ) {
        if let Tok::Ident(name) = tok {
            if let Some(body) = macros.get(name) {
                if active.len() < 64 && active.insert(name.clone()) {
                    for t in body {
                        go(t, line, macros, active, out);
                    }
                    active.remove(name);
                    return;
                }
            }
        }
        out.push(Token {
            tok: tok.clone(),
            line,
        });
    }
    if macros.is_empty() {
        return toks;
    }
    let mut out = Vec::with_capacity(toks.len());
    let mut active = HashSet::new();
    for t in &toks {
        go(&t.tok, t.line, macros, &mut active, &mut out);
    }
    out
}

/// The index of the bracket closing the one at `open` (or the end).
fn matching(toks: &[Token], open: usize) -> usize {
    let (o, c) = match toks[open].tok {
        Tok::Punct('(') => ('(', ')'),
        Tok::Punct('[') => ('[', ']'),
        _ => ('{', '}'),
    };
    let mut depth = 0usize;
    for (j, t) in toks.iter().enumerate().skip(open) {
        if t.is(o) {
            depth += 1;
        } else if t.is(c) {
            depth -= 1;
            if depth == 0 {
                return j;
            }
        }
    }
    toks.len()
}

/// The index of the bracket opening the one closing at `close`.
fn matching_back(toks: &[Token], close: usize) -> Option<usize> {
    let (o, c) = match toks[close].tok {
        Tok::Punct(')') => ('(', ')'),
        Tok::Punct(']') => ('[', ']'),
        _ => return None,
    };
    let mut depth = 0usize;
    for j in (0..=close).rev() {
        if toks[j].is(c) {
            depth += 1;
        } else if toks[j].is(o) {
            depth -= 1;
            if depth == 0 {
                return Some(j);
            }
        }
    }
    None
}

/// `toks` without GNU/MS attributes, `asm` labels, C23 `[[...]]` attributes and
/// `_Alignas`; also says whether a `gnu_inline` attribute was among them.
fn strip_attributes(toks: &[Token]) -> (Vec<Token>, bool) {
    let mut out = Vec::with_capacity(toks.len());
    let mut gnu_inline = false;
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let group = match t.ident() {
            Some(
                "__attribute__" | "__attribute" | "__declspec" | "asm" | "__asm" | "__asm__"
                | "_Alignas" | "alignas" | "_Pragma",
            ) => true,
            Some("__extension__") => {
                i += 1;
                continue;
            }
            _ => false,
        };
        if group && toks.get(i + 1).is_some_and(|n| n.is('(')) {
            let end = matching(toks, i + 1);
            gnu_inline |= toks[i..end.min(toks.len())]
                .iter()
                .any(|t| matches!(t.ident(), Some("gnu_inline" | "__gnu_inline__")));
            i = end + 1;
            continue;
        }
        if t.is('[') && toks.get(i + 1).is_some_and(|n| n.is('[')) {
            let end = matching(toks, i);
            gnu_inline |= toks[i..end.min(toks.len())]
                .iter()
                .any(|t| matches!(t.ident(), Some("gnu_inline" | "__gnu_inline__")));
            i = end + 1;
            continue;
        }
        out.push(t.clone());
        i += 1;
    }
    (out, gnu_inline)
}

// ---------------------------------------------------------------------------------------
// Declarations at file scope.

/// A function definition whose exportedness waits for the other declarations of its name
/// (a C99 `inline` definition is external only if some declaration of it is).
struct Def {
    proto: Prototype,
    inline_only: bool,
}

#[derive(Default)]
struct Parser {
    typedefs: HashMap<String, Typedef>,
    /// Names with a file-scope declaration that makes an `inline` definition external.
    external_decl: HashSet<String>,
    /// Names declared `static` (a later definition without `static` is still internal).
    static_decl: HashSet<String>,
    defs: Vec<Def>,
}

/// What a typedef name stands for.
#[derive(Clone, Debug)]
struct Typedef {
    base: Result<Base, String>,
    ptr: usize,
}

impl Parser {
    fn run(mut self, toks: &[Token]) -> Vec<Prototype> {
        let mut decl: Vec<Token> = Vec::new();
        let mut paren = 0usize;
        let mut i = 0;
        while i < toks.len() {
            let t = &toks[i];
            match t.tok {
                Tok::Punct(';') => {
                    self.declaration(&decl);
                    decl.clear();
                    paren = 0;
                }
                Tok::Punct('{') => {
                    let end = matching(toks, i);
                    if paren == 0 && self.definition(&decl) {
                        decl.clear();
                    } else if !decl.is_empty() {
                        // A stray block (after a K&R definition, ...) is dropped.
                        decl.push(Token {
                            tok: Tok::Body,
                            line: t.line,
                        });
                    }
                    i = end + 1;
                    continue;
                }
                Tok::Punct('}') => {} // a stray one: ignore
                Tok::Punct('(') | Tok::Punct('[') => {
                    paren += 1;
                    decl.push(t.clone());
                }
                Tok::Punct(')') | Tok::Punct(']') => {
                    paren = paren.saturating_sub(1);
                    decl.push(t.clone());
                }
                _ => decl.push(t.clone()),
            }
            i += 1;
        }
        let (external, statics) = (self.external_decl, self.static_decl);
        self.defs
            .into_iter()
            .filter(|d| !statics.contains(&d.proto.name))
            .filter(|d| !d.inline_only || external.contains(&d.proto.name))
            .map(|d| d.proto)
            .collect()
    }

    /// A declaration ended by `;`: a typedef is remembered, a function declaration noted.
    fn declaration(&mut self, decl: &[Token]) {
        let (toks, _) = strip_attributes(decl);
        if toks.first().and_then(Token::ident) == Some("typedef") {
            self.typedef(&toks[1..]);
            return;
        }
        if let Some((name, _, _)) = function_declarator(&toks) {
            let words: Vec<&str> = toks.iter().filter_map(Token::ident).collect();
            let inline = words.iter().any(|w| is_inline(w));
            if words.contains(&"static") {
                self.static_decl.insert(name);
            } else if words.contains(&"extern") || !inline {
                self.external_decl.insert(name);
            }
        }
    }

    fn typedef(&mut self, toks: &[Token]) {
        // `typedef int a, *b;` and function types are not remembered: a use of such a
        // name reads as an unknown type.
        if toks.iter().any(|t| t.is(',') || t.is('(')) {
            return;
        }
        let Some(name) = toks.last().and_then(Token::ident) else {
            return;
        };
        let (base, ptr) = match self.read_type(toks) {
            Ok(ty) if ty.name.as_deref() == Some(name) && ty.dims == 0 => (Ok(ty.base), ty.ptr),
            Ok(_) => return,
            // A typedef of a struct, ...: a use of it gives this reason.
            Err(TypeError::Base(why)) => (Err(why), 0),
            Err(TypeError::Other(_)) => return,
        };
        self.typedefs
            .insert(name.to_string(), Typedef { base, ptr });
    }

    /// `decl {` at file scope: records it and returns true if it is a function definition.
    fn definition(&mut self, decl: &[Token]) -> bool {
        let (toks, gnu_inline) = strip_attributes(decl);
        // An initializer (`int a[] = {...}`, `x = (struct s){...}`) is not a definition.
        let mut depth = 0usize;
        for t in &toks {
            match t.tok {
                Tok::Punct('(') | Tok::Punct('[') => depth += 1,
                Tok::Punct(')') | Tok::Punct(']') => depth = depth.saturating_sub(1),
                Tok::Punct('=') if depth == 0 => return false,
                _ => {}
            }
        }
        let Some((name, name_at, params)) = function_declarator(&toks) else {
            return false;
        };
        let words: Vec<&str> = toks[..name_at].iter().filter_map(Token::ident).collect();
        if words.contains(&"static") {
            return true;
        }
        let inline = words.iter().any(|w| is_inline(w));
        let is_extern = words.contains(&"extern");
        // C99: a definition with `inline` and without `extern` emits no symbol unless another
        // declaration of the name is external; GNU89 (`gnu_inline`): `extern inline` none.
        let (inline_only, no_symbol) = if !inline {
            (false, false)
        } else if gnu_inline {
            (false, is_extern)
        } else {
            (!is_extern, false)
        };
        if no_symbol {
            return true;
        }
        let line = toks[name_at].line;
        let sig = match params {
            Some(params) => self.signature(&toks[..name_at], params),
            None => Err(
                "its return type is a function pointer or an array: not supported; \
                         only scalars and void can be returned"
                    .to_string(),
            ),
        };
        self.defs.push(Def {
            proto: Prototype { name, line, sig },
            inline_only,
        });
        true
    }

    fn signature(&self, ret: &[Token], params: &[Token]) -> Result<CSig, String> {
        let restype = self.return_type(ret)?;
        let mut argtypes = Vec::new();
        let parts = split_commas(params);
        let void_only =
            parts.len() == 1 && parts[0].len() == 1 && parts[0][0].ident() == Some("void");
        let empty = parts.len() == 1 && parts[0].is_empty();
        if !(void_only || empty) {
            for (k, p) in parts.iter().enumerate() {
                argtypes.push(self.param_type(k + 1, p)?);
            }
        }
        Ok(CSig {
            restype,
            argtypes: Some(argtypes),
        })
    }

    fn return_type(&self, ret: &[Token]) -> Result<Option<CType>, String> {
        let written = render(ret, None);
        if ret
            .iter()
            .all(|t| matches!(t.ident(), Some(w) if is_qualifier(w)))
        {
            return Err("it has no return type (implicit int): write 'int'".to_string());
        }
        let ty = self
            .read_type(ret)
            .map_err(|e| format!("its return type '{written}' {}", e.reason()))?;
        if ty.name.is_some() {
            // `foo_t f(...)` with `foo_t` read as a name: an unknown type.
            return Err(format!("its return type '{written}' is unknown to Kiln"));
        }
        if ty.ptr > 0 {
            return Err(format!(
                "it returns a pointer ('{written}'): only scalars and void can be returned"
            ));
        }
        match ty.base {
            Base::Void => Ok(None),
            Base::Scalar { kind, plain_char } => Ok(Some(scalar(kind, plain_char))),
        }
    }

    fn param_type(&self, k: usize, toks: &[Token]) -> Result<CType, String> {
        let named = |name: Option<&str>| {
            let written = render(toks, name);
            match name {
                Some(n) => format!("parameter {k} ('{n}') of type '{written}'"),
                None => format!("parameter {k} of type '{written}'"),
            }
        };
        let ty = self.read_type(toks).map_err(|e| match e {
            TypeError::Other(why) if why == "varargs" => {
                "it takes a variable argument list ('...'): not supported".to_string()
            }
            e => format!("{} {}", named(guess_name(toks)), e.reason()),
        })?;
        let named = named(ty.name.as_deref());
        let levels = ty.ptr + ty.dims.min(1);
        if ty.ptr > 0 && ty.dims > 0 || levels > 1 {
            return Err(format!(
                "{named} is a pointer to a pointer: not supported; pass a flat array as 'T *'"
            ));
        }
        match (ty.base, levels) {
            (Base::Void, 0) => Err(format!("{named} is void")),
            (Base::Scalar { kind, plain_char }, 0) => Ok(scalar(kind, plain_char)),
            (Base::Void, _) => Ok(nd_pointer(None)),
            (
                Base::Scalar {
                    plain_char: true, ..
                },
                _,
            ) => Err(format!(
                "{named} is a string (char *): not supported; pass bytes as 'unsigned char *' \
                 or 'uint8_t *', or int8 data as 'signed char *'"
            )),
            (Base::Scalar { kind, .. }, _) => match kind.dtype() {
                Some(d) => Ok(nd_pointer(Some(d))),
                None => Err(format!(
                    "{named} points to {}-bit unsigned integers: Kiln has no uint64 arrays; \
                     use 'int64_t *'",
                    kind.bytes() * 8
                )),
            },
        }
    }

    /// Reads `specifiers [*...] [name] [[...]...]` (a parameter, a return type, a typedef).
    fn read_type(&self, toks: &[Token]) -> Result<ReadType, TypeError> {
        let mut toks = toks;
        if toks.iter().any(|t| t.tok == Tok::Ellipsis) {
            return Err(TypeError::Other("varargs".to_string()));
        }
        if toks.iter().any(|t| t.is('(')) {
            return Err(TypeError::Base(
                "is a function pointer: not supported".to_string(),
            ));
        }
        let mut dims = 0;
        while let Some(last) = toks.len().checked_sub(1) {
            if !toks[last].is(']') {
                break;
            }
            let Some(open) = matching_back(toks, last) else {
                break;
            };
            dims += 1;
            toks = &toks[..open];
        }
        let mut words: Vec<&str> = Vec::new();
        let mut typedef: Option<(&str, &Typedef)> = None;
        let mut tagged: Option<String> = None;
        let mut ptr = 0;
        let mut name: Option<String> = None;
        let mut i = 0;
        while i < toks.len() {
            let t = &toks[i];
            i += 1;
            match &t.tok {
                Tok::Punct('*') => {
                    if name.is_some() {
                        return Err(TypeError::Other("cannot be read".to_string()));
                    }
                    ptr += 1;
                }
                Tok::Ident(w) if is_qualifier(w) => {}
                Tok::Ident(w) if matches!(w.as_str(), "struct" | "union" | "enum") => {
                    let mut tag = w.clone();
                    if let Some(n) = toks.get(i).and_then(Token::ident) {
                        tag = format!("{w} {n}");
                        i += 1;
                    }
                    if toks.get(i).is_some_and(|t| t.tok == Tok::Body) {
                        i += 1;
                    }
                    tagged = Some(tag);
                }
                Tok::Ident(w) if ptr == 0 && name.is_none() && is_type_word(w) => {
                    words.push(w);
                }
                Tok::Ident(w)
                    if ptr == 0
                        && name.is_none()
                        && words.is_empty()
                        && typedef.is_none()
                        && tagged.is_none() =>
                {
                    if let Some(td) = self.typedefs.get(w.as_str()) {
                        typedef = Some((w, td));
                    } else if let Some(kind) = builtin_typedef(w) {
                        words.push(kind);
                    } else {
                        return Err(TypeError::Base(format!(
                            "is not a type Kiln knows ('{w}': a typedef from a header? write \
                             the C type it stands for)"
                        )));
                    }
                }
                Tok::Ident(w) if name.is_none() => name = Some(w.clone()),
                _ => return Err(TypeError::Other("cannot be read".to_string())),
            }
        }
        let base = if let Some(tag) = tagged {
            let kind = tag.split(' ').next().unwrap_or("struct");
            let advice = if kind == "enum" {
                "enums are not supported; use 'int'"
            } else {
                "structs and unions are not supported; pass their fields, or arrays of them"
            };
            let article = if kind == "union" { "a" } else { "an" };
            let article = if kind == "struct" { "a" } else { article };
            let what = if ptr > 0 { "points to" } else { "is" };
            return Err(TypeError::Base(format!(
                "{what} {article} {kind}: {advice}"
            )));
        } else if let Some((_, td)) = typedef {
            if !words.is_empty() {
                return Err(TypeError::Other("cannot be read".to_string()));
            }
            ptr += td.ptr;
            match &td.base {
                Ok(b) => *b,
                Err(why) => return Err(TypeError::Base(why.clone())),
            }
        } else {
            base_type(&words).map_err(TypeError::Base)?
        };
        Ok(ReadType {
            base,
            ptr,
            dims,
            name,
        })
    }
}

/// A function declarator at the end of `toks` (`... name ( params )`): the name, its index
/// and the parameter tokens (None: a declarator this does not read, as a function returning
/// a function pointer, whose name is still found).
fn function_declarator(toks: &[Token]) -> Option<(String, usize, Option<&[Token]>)> {
    let last = toks.len().checked_sub(1)?;
    if !toks[last].is(')') {
        return None;
    }
    let open = matching_back(toks, last)?;
    let params = &toks[open + 1..last];
    let before = open.checked_sub(1)?;
    if let Some(name) = toks[before].ident() {
        if is_type_word(name) || is_qualifier(name) {
            return None;
        }
        return Some((name.to_string(), before, Some(params)));
    }
    if toks[before].is(')') {
        let inner = matching_back(toks, before)?;
        // `int (f)(void)`: a parenthesized name.
        if before == inner + 2 {
            if let Some(name) = toks[inner + 1].ident() {
                return Some((name.to_string(), inner + 1, Some(params)));
            }
        }
        // `int (*f(int x))(double)`: the first name followed by `(` inside.
        for j in inner + 1..before {
            if let Some(name) = toks[j].ident() {
                if toks[j + 1].is('(') && !is_type_word(name) {
                    return Some((name.to_string(), j, None));
                }
            }
        }
    }
    None
}

/// The declared name of a parameter this could not read, where it looks like one.
fn guess_name(toks: &[Token]) -> Option<&str> {
    let mut end = toks.len();
    while end > 0 && toks[end - 1].is(']') {
        end = matching_back(toks, end - 1)?;
    }
    let w = toks[..end].last()?.ident()?;
    let prev = toks[..end.checked_sub(1)?].last()?;
    let known = is_type_word(w) || is_qualifier(w) || builtin_typedef(w).is_some();
    let tag = matches!(prev.ident(), Some("struct" | "union" | "enum"));
    (!known && !tag).then_some(w)
}

fn split_commas(toks: &[Token]) -> Vec<&[Token]> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (j, t) in toks.iter().enumerate() {
        match t.tok {
            Tok::Punct('(') | Tok::Punct('[') => depth += 1,
            Tok::Punct(')') | Tok::Punct(']') => depth = depth.saturating_sub(1),
            Tok::Punct(',') if depth == 0 => {
                parts.push(&toks[start..j]);
                start = j + 1;
            }
            _ => {}
        }
    }
    parts.push(&toks[start..]);
    parts
}

/// The type as written, without the declared name.
fn render(toks: &[Token], name: Option<&str>) -> String {
    let mut s = String::new();
    let mut prev_star = false;
    for t in toks {
        let piece = match &t.tok {
            Tok::Ident(w) if Some(w.as_str()) == name => continue,
            Tok::Ident(w) | Tok::Num(w) => w.clone(),
            Tok::Punct(c) => c.to_string(),
            Tok::Ellipsis => "...".to_string(),
            Tok::Body => "{...}".to_string(),
        };
        let glue = s.is_empty()
            || prev_star
            || matches!(piece.as_str(), "[" | "]" | ")" | ",")
            || s.ends_with(['[', '('])
            || (piece == "(" && s.ends_with(')'));
        if !glue {
            s.push(' ');
        }
        prev_star = piece == "*";
        s.push_str(&piece);
    }
    s
}

#[derive(Debug)]
enum TypeError {
    /// A type Kiln does not pass: the reason, after "of type 'T' ".
    Base(String),
    /// Tokens this does not read.
    Other(String),
}

impl TypeError {
    fn reason(&self) -> String {
        match self {
            TypeError::Base(why) => why.clone(),
            TypeError::Other(why) => why.clone(),
        }
    }
}

struct ReadType {
    base: Base,
    ptr: usize,
    dims: usize,
    name: Option<String>,
}

#[derive(Clone, Copy, Debug)]
enum Base {
    Void,
    /// `plain_char`: `char` without `signed`/`unsigned` (a string when pointed to).
    Scalar {
        kind: CScalar,
        plain_char: bool,
    },
}

fn is_inline(w: &str) -> bool {
    matches!(w, "inline" | "__inline" | "__inline__")
}

/// Words that do not change what Kiln passes.
fn is_qualifier(w: &str) -> bool {
    matches!(
        w,
        "const"
            | "__const"
            | "__const__"
            | "volatile"
            | "__volatile__"
            | "restrict"
            | "__restrict"
            | "__restrict__"
            | "register"
            | "auto"
            | "extern"
            | "static"
            | "inline"
            | "__inline"
            | "__inline__"
            | "_Noreturn"
            | "noreturn"
            | "__extension__"
            | "_Thread_local"
            | "thread_local"
    )
}

fn is_type_word(w: &str) -> bool {
    matches!(
        w,
        "void"
            | "char"
            | "short"
            | "int"
            | "long"
            | "signed"
            | "__signed"
            | "__signed__"
            | "unsigned"
            | "float"
            | "double"
            | "_Bool"
            | "bool"
            | "_Complex"
            | "__complex__"
            | "complex"
            | "_Imaginary"
            | "__int128"
            | "_Float16"
            | "_Float32"
            | "_Float64"
            | "_Float128"
            | "__float128"
            | "_Atomic"
    )
}

/// The `<stdint.h>`/`<stddef.h>`/`<sys/types.h>` names, as the type words they are on a
/// 64-bit Linux.
fn builtin_typedef(w: &str) -> Option<&'static str> {
    Some(match w {
        "int8_t" => "__int8",
        "uint8_t" => "__uint8",
        "int16_t" => "short",
        "uint16_t" => "__uint16",
        "int32_t" => "int",
        "uint32_t" => "unsigned",
        "int64_t" | "ssize_t" | "ptrdiff_t" | "intptr_t" | "off_t" | "intmax_t" => "long",
        "uint64_t" | "size_t" | "uintptr_t" | "uintmax_t" => "__uint64",
        _ => return None,
    })
}

/// The type named by the specifier words (in any order, as C allows).
fn base_type(words: &[&str]) -> Result<Base, String> {
    use CScalar::*;
    let written = words.join(" ");
    let count = |w: &str| words.iter().filter(|x| **x == w).count();
    let (signed, unsigned) = (
        count("signed") + count("__signed") + count("__signed__"),
        count("unsigned"),
    );
    let (char_, short, int, long) = (count("char"), count("short"), count("int"), count("long"));
    let scalar = |kind| {
        Ok(Base::Scalar {
            kind,
            plain_char: false,
        })
    };
    let bad = || Err(format!("is not a valid C type ('{written}')"));
    // The internal words `builtin_typedef` gives, alone.
    match words {
        ["__int8"] => return scalar(I8),
        ["__uint8"] => return scalar(U8),
        ["__uint16"] => return scalar(U16),
        ["__uint64"] => return scalar(U64),
        _ => {}
    }
    for w in ["_Complex", "__complex__", "complex", "_Imaginary"] {
        if count(w) > 0 {
            return Err("is a complex type: not supported".to_string());
        }
    }
    for w in [
        "__int128",
        "_Float16",
        "_Float32",
        "_Float64",
        "_Float128",
        "__float128",
    ] {
        if count(w) > 0 {
            return Err(format!("is not supported ('{w}')"));
        }
    }
    if count("_Atomic") > 0 {
        return Err("is atomic: not supported".to_string());
    }
    if signed > 0 && unsigned > 0 || signed > 1 || unsigned > 1 {
        return bad();
    }
    let others = words.len() - signed - unsigned - char_ - short - int - long;
    let sign_ok = signed + unsigned == 0;
    match words {
        [] => return Err("has no type".to_string()),
        ["void"] => return Ok(Base::Void),
        ["float"] => return scalar(F32),
        ["double"] => return scalar(F64),
        ["_Bool"] | ["bool"] => return scalar(Bool),
        _ if count("double") == 1 && long == 1 && words.len() == 2 => {
            return Err("is not supported (use double)".to_string())
        }
        _ => {}
    }
    if others > 0 {
        return bad();
    }
    if signed == 0 && unsigned == 0 && char_ == 0 && short == 0 && int == 0 && long == 0 {
        return bad();
    }
    let kind = match (char_, short, long, int) {
        (1, 0, 0, 0) => {
            return Ok(Base::Scalar {
                kind: if unsigned > 0 { U8 } else { I8 },
                plain_char: sign_ok,
            })
        }
        (0, 1, 0, 0 | 1) => {
            if unsigned > 0 {
                U16
            } else {
                I16
            }
        }
        (0, 0, 1 | 2, 0 | 1) => {
            if unsigned > 0 {
                U64
            } else {
                I64
            }
        }
        (0, 0, 0, 0 | 1) => {
            if unsigned > 0 {
                U32
            } else {
                I32
            }
        }
        _ => return bad(),
    };
    scalar(kind)
}

/// A scalar CType under ctypes' name for it (`int` → `c_int`, `long long` → `c_long` as
/// on 64-bit Linux, plain `char` → `c_char`).
fn scalar(kind: CScalar, plain_char: bool) -> CType {
    let name = match kind {
        CScalar::Bool => "c_bool",
        CScalar::I8 if plain_char => "c_char",
        CScalar::I8 => "c_byte",
        CScalar::U8 => "c_ubyte",
        CScalar::I16 => "c_short",
        CScalar::U16 => "c_ushort",
        CScalar::I32 => "c_int",
        CScalar::U32 => "c_uint",
        CScalar::I64 => "c_long",
        CScalar::U64 => "c_ulong",
        CScalar::F32 => "c_float",
        CScalar::F64 => "c_double",
    };
    ctypes_scalar(name).unwrap_or(CType::Scalar { kind, name })
}

fn nd_pointer(dtype: Option<kiln_runtime::DType>) -> CType {
    CType::NdPointer(Rc::new(NdPointer {
        dtype,
        ndim: None,
        flags: FLAG_C_CONTIGUOUS,
        nullable: true,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_runtime::DType;

    fn ok(p: &Prototype) -> &CSig {
        match &p.sig {
            Ok(s) => s,
            Err(e) => panic!("{}: {e}", p.name),
        }
    }
    fn err(p: &Prototype) -> &str {
        match &p.sig {
            Ok(s) => panic!("{}: expected an error, got {s:?}", p.name),
            Err(e) => e,
        }
    }
    fn names(ps: &[Prototype]) -> Vec<&str> {
        ps.iter().map(|p| p.name.as_str()).collect()
    }
    fn sc(name: &str) -> CType {
        ctypes_scalar(name).unwrap()
    }
    fn ptr(d: Option<DType>) -> CType {
        nd_pointer(d)
    }
    fn args(p: &Prototype) -> Vec<CType> {
        ok(p).argtypes.clone().unwrap()
    }

    #[test]
    fn mandelbrot() {
        let src = "#include <stdint.h>\n\
                   \n\
                   void mandelbrot(int size, int iterations, int *col)\n\
                   {\n\
                       for (int i = 0; i < size; i++) { col[i] = iterations; }\n\
                   }\n";
        let ps = prototypes(src);
        assert_eq!(names(&ps), ["mandelbrot"]);
        assert_eq!(ps[0].line, 3);
        let sig = ok(&ps[0]);
        assert_eq!(sig.restype, None);
        assert_eq!(
            sig.argtypes,
            Some(vec![sc("c_int"), sc("c_int"), ptr(Some(DType::I32))])
        );
        assert_eq!(
            ptr(Some(DType::I32)),
            CType::NdPointer(Rc::new(NdPointer {
                dtype: Some(DType::I32),
                ndim: None,
                flags: FLAG_C_CONTIGUOUS,
                nullable: true,
            }))
        );
    }

    #[test]
    fn comments_strings_and_directives_with_braces() {
        let src = r#"
// void fake1(int x) { }
/* void fake2(int x) {
   } */
#define OPEN {  \
   void fake3(void) {
const char *msg = "} void fake4(void) { {";
char brace = '{';
char quote = '\'';
double real(double x) { const char *s = "}}}"; return x; /* } */ }
int after(void) { return '}'; }
"#;
        let ps = prototypes(src);
        assert_eq!(names(&ps), ["real", "after"]);
        assert_eq!(ps[0].line, 10);
        assert_eq!(ps[1].line, 11);
        assert_eq!(ok(&ps[0]).restype, Some(sc("c_double")));
        assert_eq!(args(&ps[0]), [sc("c_double")]);
        assert_eq!(args(&ps[1]), []);
    }

    #[test]
    fn declarations_static_and_inline() {
        let src = "
int declared(int x);
extern double also_declared(double);
static int hidden(int x) { return x; }
static inline int hidden2(int x) { return x; }
int shown(int x) { return hidden(x); }
inline int inline_only(int x) { return x; }
inline int inline_declared(int x) { return x; }
int inline_declared(int x);
extern inline int extern_inline(int x) { return x; }
static int defined_after(int);
int defined_after(int x) { return x; }
";
        let ps = prototypes(src);
        assert_eq!(names(&ps), ["shown", "inline_declared", "extern_inline"]);
    }

    #[test]
    fn integer_spellings() {
        let src = "
unsigned long long a(unsigned long long x, long long int y, short int z, unsigned u,
                     signed char c, unsigned char uc, char pc, long unsigned lu, signed s) { return 0; }
int64_t b(int8_t a, uint8_t b, int16_t c, uint16_t d, int32_t e, uint32_t f, uint64_t g,
          size_t h, ssize_t i, ptrdiff_t j) { return 0; }
_Bool c(bool b, float f, double d, const int ci, unsigned short us) { return b; }
";
        let ps = prototypes(src);
        assert_eq!(names(&ps), ["a", "b", "c"]);
        assert_eq!(ok(&ps[0]).restype, Some(sc("c_ulong")));
        let names_of =
            |p: &Prototype| -> Vec<String> { args(p).iter().map(|t| t.to_string()).collect() };
        assert_eq!(
            names_of(&ps[0]),
            [
                "c_ulong", "c_long", "c_short", "c_uint", "c_byte", "c_ubyte", "c_char", "c_ulong",
                "c_int"
            ]
        );
        assert_eq!(ok(&ps[1]).restype, Some(sc("c_long")));
        assert_eq!(
            names_of(&ps[1]),
            [
                "c_byte", "c_ubyte", "c_short", "c_ushort", "c_int", "c_uint", "c_ulong",
                "c_ulong", "c_long", "c_long"
            ]
        );
        let kinds: Vec<CScalar> = args(&ps[1])
            .iter()
            .map(|t| match t {
                CType::Scalar { kind, .. } => *kind,
                t => panic!("{t:?}"),
            })
            .collect();
        use CScalar::*;
        assert_eq!(kinds, [I8, U8, I16, U16, I32, U32, U64, U64, I64, I64]);
        assert_eq!(ok(&ps[2]).restype, Some(sc("c_bool")));
        assert_eq!(
            args(&ps[2]),
            [
                sc("c_bool"),
                sc("c_float"),
                sc("c_double"),
                sc("c_int"),
                sc("c_ushort")
            ]
        );
    }

    #[test]
    fn pointers_and_arrays() {
        let src = "
void axpy(int n, double a, const double *restrict x, double *__restrict y) {}
void arr(double x[], float y[static 4], int n, int m, double z[n][m], void *p,
         const void *q, unsigned char *bytes, _Bool *mask, double * const r) {}
";
        let ps = prototypes(src);
        assert_eq!(
            args(&ps[0]),
            [
                sc("c_int"),
                sc("c_double"),
                ptr(Some(DType::F64)),
                ptr(Some(DType::F64))
            ]
        );
        assert_eq!(
            args(&ps[1]),
            [
                ptr(Some(DType::F64)),
                ptr(Some(DType::F32)),
                sc("c_int"),
                sc("c_int"),
                ptr(Some(DType::F64)),
                ptr(None),
                ptr(None),
                ptr(Some(DType::U8)),
                ptr(Some(DType::Bool)),
                ptr(Some(DType::F64)),
            ]
        );
    }

    #[test]
    fn unsupported_types_say_why() {
        let src = "
struct point { double x, y; };
typedef struct { double re, im; } cplx;
double norm(int n, struct point p) { return p.x; }
double cnorm(cplx c) { return c.re; }
int count(const char *s) { return 0; }
int main(int argc, char **argv) { return 0; }
double *make(int n) { return 0; }
long double ld(long double x) { return x; }
int apply(int (*f)(int), int x) { return f(x); }
int sum(int n, ...) { return n; }
int unknown(foo_t x) { return 0; }
void big(uint64_t *p) {}
int fine(void) { return 1; }
";
        let ps = prototypes(src);
        assert_eq!(
            names(&ps),
            [
                "norm", "cnorm", "count", "main", "make", "ld", "apply", "sum", "unknown", "big",
                "fine"
            ]
        );
        let e: Vec<&str> = ps[..10].iter().map(err).collect();
        assert_eq!(
            e[0],
            "parameter 2 ('p') of type 'struct point' is a struct: structs and unions are not \
             supported; pass their fields, or arrays of them"
        );
        assert!(
            e[1].starts_with("parameter 1 ('c') of type 'cplx' is a struct"),
            "{}",
            e[1]
        );
        assert!(
            e[2].starts_with("parameter 1 ('s') of type 'const char *' is a string"),
            "{}",
            e[2]
        );
        assert!(
            e[3].starts_with("parameter 2 ('argv') of type 'char **' is a pointer to a pointer"),
            "{}",
            e[3]
        );
        assert_eq!(
            e[4],
            "it returns a pointer ('double *'): only scalars and void can be returned"
        );
        assert!(
            e[5] == "its return type 'long double' is not supported (use double)",
            "{}",
            e[5]
        );
        assert!(
            e[6].starts_with("parameter 1 of type 'int (*f)(int)' is a function pointer"),
            "{}",
            e[6]
        );
        assert!(e[7].contains("variable argument list"), "{}", e[7]);
        assert!(
            e[8].starts_with("parameter 1 ('x') of type 'foo_t' is not a type Kiln knows"),
            "{}",
            e[8]
        );
        assert!(
            e[9].contains("'uint64_t *'") && e[9].contains("no uint64 arrays"),
            "{}",
            e[9]
        );
        assert_eq!(ok(&ps[10]).argtypes, Some(vec![]));
    }

    #[test]
    fn multi_line_signature_with_attributes() {
        let src = "#include <math.h>
#define EXPORT __attribute__((visibility(\"default\")))
#define real double

__attribute__((hot, noinline))
EXPORT real
dot(
    int n,                       /* length */
    const real *restrict a,      // first
    const real *restrict b
) __attribute__((nonnull))
{
    real s = 0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}
[[gnu::always_inline]] inline static int nope(void) { return 0; }
";
        let ps = prototypes(src);
        assert_eq!(names(&ps), ["dot"]);
        assert_eq!(ps[0].line, 7);
        assert_eq!(ok(&ps[0]).restype, Some(sc("c_double")));
        assert_eq!(
            args(&ps[0]),
            [sc("c_int"), ptr(Some(DType::F64)), ptr(Some(DType::F64))]
        );
    }

    #[test]
    fn typedefs_initializers_and_structs_are_not_definitions() {
        let src = "
typedef double real_t;
typedef float *fvec;
int table[] = { 1, 2, 3 };
struct s { int a; } sv = { 1 };
struct s make_s(void);
enum color { RED, GREEN };
struct s z = (struct s){ 2 };
real_t scale(real_t x, fvec v, enum color c) { return x; }
real_t twice(real_t x, fvec v) { return 2 * x; }
";
        let ps = prototypes(src);
        assert_eq!(names(&ps), ["scale", "twice"]);
        assert!(
            err(&ps[0]).starts_with("parameter 3 ('c') of type 'enum color' is an enum"),
            "{}",
            err(&ps[0])
        );
        assert_eq!(ok(&ps[1]).restype, Some(sc("c_double")));
        assert_eq!(args(&ps[1]), [sc("c_double"), ptr(Some(DType::F32))]);
    }

    #[test]
    fn empty_and_odd_sources() {
        assert!(prototypes("").is_empty());
        assert!(prototypes("int x;\n#if 0\n#endif\n").is_empty());
        // Unbalanced braces or an unterminated comment do not panic.
        assert!(prototypes("int f(void) { if (1) {").len() <= 1);
        assert!(prototypes("/* never closed").is_empty());
        assert!(prototypes("\"never closed").is_empty());
        let ps = prototypes("f(void) { return 1; }\nint (*getf(int k))(int) { return 0; }\n");
        assert_eq!(names(&ps), ["f", "getf"]);
        assert!(err(&ps[0]).contains("implicit int"), "{}", err(&ps[0]));
        assert!(err(&ps[1]).contains("function pointer"), "{}", err(&ps[1]));
        assert_eq!(ps[1].line, 2);
        // A K&R definition is not read, and does not upset what follows.
        let ps = prototypes(
            "int kr(a, b) int a; int b; { return a; }\n\
             _Pragma(\"GCC optimize(3)\") int g(struct point *p) { return 0; }\n",
        );
        assert_eq!(names(&ps), ["g"]);
        assert_eq!(
            err(&ps[0]),
            "parameter 1 ('p') of type 'struct point *' points to a struct: structs and \
             unions are not supported; pass their fields, or arrays of them"
        );
    }
}
