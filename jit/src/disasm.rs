//! Machine code → x86-64 assembly text (`%%asm`, `--emit asm`), with iced-x86.
//!
//! Jumps inside a function print as local labels (`.L2`) that head the instructions they
//! reach, instead of absolute addresses; calls print the name of the function or runtime
//! entry they reach (the JIT calls through `mov rax, <address>; call rax`, and the address
//! is a relocation whose target Cranelift knows): `mov rax,kiln_write; call rax ; kiln_write`.
//! Each source line heads the instructions generated for it (Compiler Explorer's view: the
//! lowering marks statements, Cranelift carries the marks as source locations to the code
//! offsets), and the labels that backward jumps reach are marked as loops, the innermost
//! ones (the hot code) as such.

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
    /// (start, end, site): code offsets `start..end` come from the statement at the site.
    pub lines: Vec<(u32, u32, u32)>,
}

/// Names the function-local jump targets (`.L1`, `.L2`, ... in address order).
struct Labels(BTreeMap<u64, String>);

impl SymbolResolver for Labels {
    fn symbol(
        &mut self,
        instruction: &Instruction,
        operand: u32,
        _instruction_operand: Option<u32>,
        address: u64,
        _address_size: u32,
    ) -> Option<SymbolResult<'_>> {
        // Only a jump's target is a label: an immediate or a memory operand that happens
        // to equal a label's address (a host address the code embeds) stays a number.
        if !matches!(
            instruction.op_kind(operand),
            OpKind::NearBranch16 | OpKind::NearBranch32 | OpKind::NearBranch64
        ) {
            return None;
        }
        self.0
            .get(&address)
            .map(|l| SymbolResult::with_str(address, l.as_str()))
    }
}

/// The function's instructions: those reachable from its entry. Cranelift puts the
/// function's constants after its last block; decoded as code, their bytes would make
/// jumps (and labels) that differ from run to run.
fn decode(f: &MachineCode) -> Vec<Instruction> {
    let mut decoder = Decoder::with_ip(64, &f.bytes, f.addr as u64, DecoderOptions::NONE);
    let mut all = Vec::new();
    while decoder.can_decode() {
        all.push(decoder.decode());
    }
    let at: std::collections::HashMap<u64, usize> =
        all.iter().enumerate().map(|(k, i)| (i.ip(), k)).collect();
    let mut reached = vec![false; all.len()];
    let mut work = vec![0usize];
    while let Some(k) = work.pop() {
        if k >= all.len() || reached[k] {
            continue;
        }
        reached[k] = true;
        let inst = &all[k];
        let branch = matches!(
            inst.op0_kind(),
            OpKind::NearBranch16 | OpKind::NearBranch32 | OpKind::NearBranch64
        ) && inst.mnemonic() != Mnemonic::Call;
        if branch {
            if let Some(&t) = at.get(&inst.near_branch_target()) {
                work.push(t);
            }
        }
        let ends = matches!(
            inst.mnemonic(),
            Mnemonic::Ret | Mnemonic::Ud2 | Mnemonic::Int3
        ) || (inst.mnemonic() == Mnemonic::Jmp);
        if !ends {
            work.push(k + 1);
        }
    }
    all.into_iter()
        .zip(reached)
        .filter_map(|(i, r)| r.then_some(i))
        .collect()
}

/// The jumps inside a function: (address of the jump, address it reaches).
fn local_jumps(insts: &[Instruction], lo: u64, hi: u64) -> Vec<(u64, u64)> {
    insts
        .iter()
        .filter(|i| {
            matches!(
                i.op0_kind(),
                OpKind::NearBranch16 | OpKind::NearBranch32 | OpKind::NearBranch64
            ) && i.mnemonic() != Mnemonic::Call
        })
        .map(|i| (i.ip(), i.near_branch_target()))
        .filter(|(_, t)| (lo..hi).contains(t))
        .collect()
}

/// Loop heads (targets of backward jumps) and whether each loop is innermost: no other loop
/// head lies between it and its last backward jump.
fn loops(jumps: &[(u64, u64)]) -> BTreeMap<u64, bool> {
    let mut ends: BTreeMap<u64, u64> = BTreeMap::new();
    for &(from, to) in jumps {
        if to <= from {
            let e = ends.entry(to).or_insert(from);
            *e = (*e).max(from);
        }
    }
    ends.iter()
        .map(|(&head, &end)| (head, !ends.keys().any(|&h| h > head && h <= end)))
        .collect()
}

/// The source line heading each instruction: the site of the code range it falls in.
fn site_at(f: &MachineCode, off: u32) -> Option<u32> {
    f.lines
        .iter()
        .find(|(start, end, _)| (*start..*end).contains(&off))
        .map(|(_, _, site)| *site)
}

/// Disassemble each function in Intel syntax, with labels and call names; `source` gives
/// the text that heads the instructions of a site (`None`: no line is shown for it).
pub fn disassemble(funcs: &[MachineCode], source: &dyn Fn(u32) -> Option<String>) -> String {
    let mut out = String::new();
    for f in funcs {
        let insts = decode(f);
        let (lo, hi) = (f.addr as u64, (f.addr + f.bytes.len()) as u64);
        let jumps = local_jumps(&insts, lo, hi);
        let loop_heads = loops(&jumps);
        let mut targets: Vec<u64> = jumps.iter().map(|&(_, t)| t).collect();
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
        let mut shown_site = None;
        for inst in &insts {
            let off = (inst.ip() - lo) as u32;
            if let Some(site) = site_at(f, off) {
                if shown_site != Some(site) {
                    shown_site = Some(site);
                    if let Some(line) = source(site) {
                        out.push_str(&format!("; {line}\n"));
                    }
                }
            }
            if let Some(l) = labels.get(&inst.ip()) {
                let head = format!("{l}:");
                match loop_heads.get(&inst.ip()) {
                    Some(true) => out.push_str(&format!("{head:<35}; loop (innermost)\n")),
                    Some(false) => out.push_str(&format!("{head:<35}; loop\n")),
                    None => out.push_str(&format!("{head}\n")),
                }
            }
            text.clear();
            formatter.format(inst, &mut text);
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

/// CLIF text (`%%clif`) with the same source lines: Cranelift prints an instruction's source
/// location as an `@xxxx` prefix (the site, in hex) and indents every instruction to make room
/// for it; this prints each site's line once before its instructions instead.
pub fn annotate_clif(text: &str, source: &dyn Fn(u32) -> Option<String>) -> String {
    const INST_INDENT: usize = 36;
    const BLOCK_INDENT: usize = 32;
    let mut out = String::with_capacity(text.len());
    let mut shown_site = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let site = trimmed
            .strip_prefix('@')
            .and_then(|t| t.split_once(' '))
            .and_then(|(hex, rest)| Some((u32::from_str_radix(hex, 16).ok()?, rest)));
        if let Some((site, rest)) = site {
            if shown_site != Some(site) {
                shown_site = Some(site);
                if let Some(src) = source(site) {
                    out.push_str(&format!("    ; {src}\n"));
                }
            }
            out.push_str(&format!("    {}\n", rest.trim_start()));
        } else if line.len() - trimmed.len() >= INST_INDENT {
            out.push_str(&format!("    {trimmed}\n"));
        } else if line.len() - trimmed.len() == BLOCK_INDENT {
            out.push_str(&format!("{trimmed}\n"));
        } else {
            out.push_str(&format!("{line}\n"));
        }
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
            lines: vec![],
        };
        let text = disassemble(&[f], &|_| None);
        assert!(text.contains("je short .L1"), "{text}");
        assert!(text.contains(".L1:\n      12  ret"), "{text}");
        assert!(text.contains("mov rax,kiln_par_for\n"), "{text}");
        assert!(
            text.contains("call rax                 ; kiln_par_for"),
            "{text}"
        );
        assert!(!text.contains("1012h"), "{text}");
    }

    #[test]
    fn source_lines_head_their_code_and_backward_jump_targets_are_loops() {
        // 0: xor eax,eax (site 7); 2: inc eax; 4: cmp eax,10; 7: jl 2 (site 8); 9: ret.
        let bytes = vec![0x31, 0xC0, 0xFF, 0xC0, 0x83, 0xF8, 0x0A, 0x7C, 0xF9, 0xC3];
        let f = MachineCode {
            name: "f".into(),
            addr: 0x1000,
            bytes,
            calls: vec![],
            lines: vec![(0, 2, 7), (2, 9, 8)],
        };
        let text = disassemble(&[f], &|site| Some(format!("line of site {site}")));
        let want = "; f\n; line of site 7\n       0  xor eax,eax\n; line of site 8\n.L1:";
        assert!(text.starts_with(want), "{text}");
        assert!(
            text.contains(".L1:                               ; loop (innermost)\n"),
            "{text}"
        );
        assert_eq!(text.matches("line of site 8").count(), 1, "{text}");
    }

    #[test]
    fn clif_source_locations_become_line_comments() {
        let clif = "function u0:0(i64) system_v {\n                                block0(v0: i64):\n@0003                               v1 = iconst.i64 1\n@0003                               v2 = iadd v0, v1\n                                    return\n}\n";
        let text = annotate_clif(clif, &|site| Some(format!("site {site}")));
        assert_eq!(
            text,
            "function u0:0(i64) system_v {\nblock0(v0: i64):\n    ; site 3\n    v1 = iconst.i64 1\n    v2 = iadd v0, v1\n    return\n}\n"
        );
    }
}
