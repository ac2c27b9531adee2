//! Machine code → x86-64 assembly text (`%asm`, `--emit asm`), with iced-x86.

use iced_x86::{Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter};

/// Disassemble each (function name, address, bytes) in Intel syntax.
pub fn disassemble(funcs: &[(String, usize, Vec<u8>)]) -> String {
    let mut out = String::new();
    let mut formatter = IntelFormatter::new();
    for (name, addr, bytes) in funcs {
        out.push_str(&format!("; {name}\n"));
        let mut decoder = Decoder::with_ip(64, bytes, *addr as u64, DecoderOptions::NONE);
        let mut inst = Instruction::default();
        let mut text = String::new();
        while decoder.can_decode() {
            decoder.decode_out(&mut inst);
            text.clear();
            formatter.format(&inst, &mut text);
            out.push_str(&format!("  {:6x}  {text}\n", inst.ip() - *addr as u64));
        }
        out.push('\n');
    }
    out
}
