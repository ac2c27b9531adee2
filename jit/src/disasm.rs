//! Machine code → x86-64 assembly text (`%%asm`, `--emit asm`), with iced-x86.
//!
//! Jumps inside a function print as local labels (`.L2`) that head the instructions they
//! reach, instead of absolute addresses; calls print the name of the function or runtime
//! entry they reach (the JIT calls through `mov rax, <address>; call rax`, and the address
//! is a relocation whose target Cranelift knows): `mov rax,kiln_write; call rax ; kiln_write`.

use iced_x86::{
    Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter, Mnemonic, OpKind,
    SymbolResolver, SymbolResult,
};
use std::collections::BTreeMap;

/// One compiled function as the disassembler needs it.
#[derive(Clone, Debug)]
pub struct MachineCode {
    pub name: String,
    /// Where it was loaded.
    pub addr: usize,
    pub bytes: Vec<u8>,
    /// (byte offset of a relocated field, name of what it points at)
    pub calls: Vec<(u32, String)>,
}

/// Names the function-local jump targets (`.L1`, `.L2`, ... in address order).
struct Labels(BTreeMap<u64, String>);

impl SymbolResolver for Labels {
    fn symbol(
        &mut self,
        _instruction: &Instruction,
        _operand: u32,
        _instruction_operand: Option<u32>,
        address: u64,
        _address_size: u32,
    ) -> Option<SymbolResult<'_>> {
        self.0
            .get(&address)
            .map(|l| SymbolResult::with_str(address, l.as_str()))
    }
}

fn decode(f: &MachineCode) -> Vec<Instruction> {
    let mut decoder = Decoder::with_ip(64, &f.bytes, f.addr as u64, DecoderOptions::NONE);
    let mut out = Vec::new();
    while decoder.can_decode() {
        out.push(decoder.decode());
    }
    out
}

/// Disassemble each function in Intel syntax, with labels and call names.
pub fn disassemble(funcs: &[MachineCode]) -> String {
    let mut out = String::new();
    for f in funcs {
        let insts = decode(f);
        let (lo, hi) = (f.addr as u64, (f.addr + f.bytes.len()) as u64);
        let mut targets: Vec<u64> = insts
            .iter()
            .filter(|i| {
                matches!(
                    i.op0_kind(),
                    OpKind::NearBranch16 | OpKind::NearBranch32 | OpKind::NearBranch64
                ) && i.mnemonic() != Mnemonic::Call
            })
            .map(|i| i.near_branch_target())
            .filter(|t| (lo..hi).contains(t))
            .collect();
        targets.sort_unstable();
        targets.dedup();
        let labels: BTreeMap<u64, String> = targets
            .iter()
            .enumerate()
            .map(|(k, &t)| (t, format!(".L{}", k + 1)))
            .collect();
        let mut formatter =
            IntelFormatter::with_options(Some(Box::new(Labels(labels.clone()))), None);
        out.push_str(&format!("; {}\n", f.name));
        let mut text = String::new();
        let mut loaded: std::collections::HashMap<String, String> = Default::default();
        for inst in &insts {
            if let Some(l) = labels.get(&inst.ip()) {
                out.push_str(&format!("{l}:\n"));
            }
            text.clear();
            formatter.format(inst, &mut text);
            let off = (inst.ip() - lo) as u32;
            let end = off + inst.len() as u32;
            let callee = f
                .calls
                .iter()
                .find(|(at, _)| (off..end).contains(at))
                .map(|(_, n)| n.as_str());
            // The address field is still unlinked (0) in these bytes: print the name in
            // its place, and beside the call through the register it was loaded into.
            if let (Some(n), Some(reg)) = (
                callee,
                text.strip_prefix("mov ").and_then(|t| t.strip_suffix(",0")),
            ) {
                loaded.insert(reg.to_string(), n.to_string());
                text = format!("mov {reg},{n}");
            }
            let called = text.strip_prefix("call ").and_then(|r| loaded.get(r));
            match called {
                Some(n) => out.push_str(&format!("  {off:6x}  {text:<24} ; {n}\n")),
                None => out.push_str(&format!("  {off:6x}  {text}\n")),
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jumps_become_labels_and_relocated_calls_are_named() {
        // 0: xor eax,eax; 2: test edi,edi; 4: je 0x12; 6: mov rax, imm64 (relocated at 8);
        // 0x10: call rax; 0x12: ret.
        let mut bytes = vec![0x31, 0xC0, 0x85, 0xFF, 0x74, 0x0C]; // je +12 -> 0x12
        bytes.extend([0x48, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0]); // 6: mov rax, 0
        bytes.extend([0xFF, 0xD0]); // 16: call rax
        bytes.push(0xC3); // 18: ret
        let f = MachineCode {
            name: "f".into(),
            addr: 0x1000,
            bytes,
            calls: vec![(8, "kiln_par_for".into())],
        };
        let text = disassemble(&[f]);
        assert!(text.contains("je short .L1"), "{text}");
        assert!(text.contains(".L1:\n      12  ret"), "{text}");
        assert!(text.contains("mov rax,kiln_par_for\n"), "{text}");
        assert!(
            text.contains("call rax                 ; kiln_par_for"),
            "{text}"
        );
        assert!(!text.contains("1012h"), "{text}");
    }
}
