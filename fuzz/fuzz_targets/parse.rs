//! The lexer and parser on arbitrary text: they must return tokens, a tree or diagnostics,
//! never panic. The printers of both run too (`%%tokens`, `%%ast` show them to users), and
//! so does the completeness check the REPL and `is_complete_request` call on every line.
#![no_main]

use kiln_jit::syntax;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    if kiln_fuzz::too_deep(src) {
        return;
    }
    if let Ok(tokens) = syntax::tokenize(src) {
        let _ = syntax::dump_tokens(&tokens);
    }
    let (module, diags) = syntax::parse(src);
    if diags.is_empty() {
        let _ = syntax::dump_ast(&module);
    }
    let _ = syntax::is_complete(src);
    // Completion and help at a cursor, in code points as Jupyter counts them and turned
    // into bytes as the kernel does.
    let chars = data.first().map_or(0, |&b| b as usize);
    let cursor = src.char_indices().nth(chars).map_or(src.len(), |(b, _)| b);
    let session = kiln_jit::Session::new();
    let _ = session.complete(src, cursor);
    let _ = session.inspect(src, cursor);
});
