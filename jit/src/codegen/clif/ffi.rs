//! Calls into C: one *thunk* per C signature a unit calls, `fn(buf)`, which reads the
//! function's address and its arguments from `buf`, calls it with the platform's C calling
//! convention and writes the result back. The compiled code never calls C directly: the
//! runtime's `kiln_ffi_guarded` (C) runs the thunk under a guard that turns a fault into an
//! error, which a direct call could not do (the guard needs a `setjmp` around the call).

use super::*;
use crate::ffi::CScalar;

/// A thunk's signature: the C parameter types, and the return type (None: `void`).
pub(crate) type ThunkAbi = (Vec<CScalar>, Option<CScalar>);

/// How a C scalar travels in the argument buffer: as the Kiln value it comes from (an `i64`
/// for integers and pointers, a `bool`, an `f32` or an `f64`).
fn word_type(s: CScalar) -> types::Type {
    match s {
        CScalar::Bool => types::I8,
        CScalar::F32 => types::F32,
        CScalar::F64 => types::F64,
        _ => types::I64,
    }
}

/// The Kiln value a C result becomes: integers widen to `i64`, `float` to `f64`.
pub(crate) fn result_type(s: CScalar) -> types::Type {
    match s {
        CScalar::Bool => types::I8,
        CScalar::F32 | CScalar::F64 => types::F64,
        _ => types::I64,
    }
}

/// The parameter as the C ABI has it: narrow integers extended by the caller, as C
/// compilers expect of x86-64 and AArch64 callers.
fn abi_param(s: CScalar) -> AbiParam {
    let t = match s {
        CScalar::Bool | CScalar::I8 | CScalar::U8 => types::I8,
        CScalar::I16 | CScalar::U16 => types::I16,
        CScalar::I32 | CScalar::U32 => types::I32,
        CScalar::I64 | CScalar::U64 => types::I64,
        CScalar::F32 => types::F32,
        CScalar::F64 => types::F64,
    };
    let p = AbiParam::new(t);
    match s {
        CScalar::I8 | CScalar::I16 | CScalar::I32 => p.sext(),
        CScalar::Bool | CScalar::U8 | CScalar::U16 | CScalar::U32 => p.uext(),
        _ => p,
    }
}

impl<'a, 'b> Gen<'a, 'b> {
    /// The address of the unit's thunk for this signature (declared on first use; defined by
    /// `define_thunks` once every function is built).
    pub(crate) fn ffi_thunk(
        &mut self,
        params: &[CScalar],
        ret: Option<CScalar>,
    ) -> Result<Value, String> {
        let key: ThunkAbi = (params.to_vec(), ret);
        let id = match self.ffi_thunks.iter().find(|(k, _)| *k == key) {
            Some((_, id)) => *id,
            None => {
                let mut sig = self.module.make_signature();
                sig.params.push(AbiParam::new(types::I64));
                let name = format!("kiln_c_thunk{}", self.ffi_thunks.len());
                let id = self
                    .module
                    .declare_function(&name, Linkage::Local, &sig)
                    .map_err(|e| e.to_string())?;
                self.ffi_thunks.push((key, id));
                id
            }
        };
        let f = self.module.declare_func_in_func(id, self.b.func);
        Ok(self.b.ins().func_addr(types::I64, f))
    }
}

/// Build and define every thunk the unit's functions asked for.
pub(super) fn define_thunks(
    module: &mut JITModule,
    thunks: &[(ThunkAbi, FuncId)],
    fctx: &mut FunctionBuilderContext,
) -> Result<(), String> {
    let mut ctx = module.make_context();
    for ((params, ret), id) in thunks {
        let mut sig = module.make_signature();
        sig.params.push(AbiParam::new(types::I64));
        ctx.func.signature = sig;
        {
            let mut b = FunctionBuilder::new(&mut ctx.func, fctx);
            let entry = b.create_block();
            b.append_block_params_for_function_params(entry);
            b.switch_to_block(entry);
            b.seal_block(entry);
            let buf = b.block_params(entry)[0];
            let flags = MemFlagsData::trusted();
            let addr = b.ins().load(types::I64, flags, buf, 0);
            let mut args = Vec::with_capacity(params.len());
            for (k, &p) in params.iter().enumerate() {
                let w = b.ins().load(word_type(p), flags, buf, 8 * (k as i32 + 1));
                let want = abi_param(p).value_type;
                let w = if want.is_int() && want.bits() < word_type(p).bits() {
                    b.ins().ireduce(want, w)
                } else {
                    w
                };
                args.push(w);
            }
            let mut csig = module.make_signature();
            csig.params.extend(params.iter().map(|&p| abi_param(p)));
            if let Some(r) = ret {
                csig.returns.push(abi_param(*r));
            }
            let sigref = b.import_signature(csig);
            let call = b.ins().call_indirect(sigref, addr, &args);
            if let Some(r) = ret {
                let v = b.inst_results(call)[0];
                let out = result_type(*r);
                let v = match r {
                    CScalar::F32 => b.ins().fpromote(out, v),
                    CScalar::I8 | CScalar::I16 | CScalar::I32 => b.ins().sextend(out, v),
                    CScalar::U8 | CScalar::U16 | CScalar::U32 => b.ins().uextend(out, v),
                    _ => v,
                };
                b.ins().store(flags, v, buf, 8 * (params.len() as i32 + 1));
            }
            b.ins().return_(&[]);
            b.finalize(module.target_config());
        }
        module
            .define_function(*id, &mut ctx)
            .map_err(|e| format!("Cranelift rejected a C call's thunk: {e:?}"))?;
        module.clear_context(&mut ctx);
    }
    Ok(())
}
