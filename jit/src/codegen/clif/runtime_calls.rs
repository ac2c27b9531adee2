//! Calls into the runtime: each `extern "C"` entry point's Cranelift signature, imports by
//! symbol, and the stack slots that pass shapes and results.

use super::*;

/// Type codes of reduction values for `kiln_par_for`.
pub(crate) fn red_type_code(t: &Ty) -> Result<i64, String> {
    Ok(match t {
        Ty::Bool => 0,
        Ty::I64 => 1,
        Ty::F64 => 2,
        Ty::F32 => 3,
        Ty::C128 => 4,
        t => return Err(format!("a reduction of type {t}")),
    })
}

/// Signatures of the runtime functions the generated code calls (all take/return i64 for
/// pointers and integers).
pub(super) fn runtime_sig(name: &str) -> (Vec<types::Type>, Vec<types::Type>) {
    use types::{F32, F64, I64};
    let p = I64;
    match name {
        "kiln_incref" | "kiln_decref" => (vec![p], vec![]),
        "kiln_trace" => (vec![p, I64], vec![]),
        "kiln_raise_interrupt" | "kiln_raise_recursion" => (vec![p], vec![]),
        "kiln_raise_msg" => (vec![p, I64, p, I64], vec![]),
        "kiln_index_error" => (vec![p, I64, I64, I64], vec![]),
        "kiln_int_bounds_error" => (vec![p, I64, I64], vec![]),
        "kiln_sort" | "kiln_argsort" | "kiln_median" => (vec![p, p, I64], vec![p]),
        "kiln_sort_in_place" => (vec![p, p, I64], vec![I64]),
        "kiln_median_all" => (vec![p, p, p], vec![I64]),
        "kiln_array_new" => (vec![p, I64, I64, p, I64], vec![p]),
        "kiln_array_full_i64" => (vec![p, I64, I64, p, I64], vec![p]),
        "kiln_array_full_f64" => (vec![p, I64, I64, p, F64], vec![p]),
        "kiln_array_full_c128" => (vec![p, I64, I64, p, F64, F64], vec![p]),
        "kiln_fill_i64" => (vec![p, I64], vec![]),
        "kiln_fill_f64" => (vec![p, F64], vec![]),
        "kiln_fill_c128" => (vec![p, F64, F64], vec![]),
        "kiln_arange_i64" => (vec![p, I64, I64, I64], vec![p]),
        "kiln_arange_f64" => (vec![p, F64, F64, F64], vec![p]),
        "kiln_linspace" => (vec![p, F64, F64, I64, I64], vec![p]),
        "kiln_array_copy" => (vec![p, p], vec![p]),
        "kiln_array_reduce" => (vec![p, p, I64, p], vec![I64]),
        "kiln_str_new" => (vec![p, I64], vec![p]),
        "kiln_list_new" => (vec![I64, I64], vec![p]),
        "kiln_list_push" | "kiln_list_len" => (vec![p], vec![I64]),
        "kiln_list_at" => (vec![p, p, I64], vec![p]),
        "kiln_list_pop" => (vec![p, p, I64, I64], vec![p]),
        "kiln_list_insert" | "kiln_list_repr" => (vec![p, I64], vec![p]),
        "kiln_list_concat" => (vec![p, p], vec![p]),
        "kiln_list_extend" => (vec![p, p], vec![]),
        "kiln_list_imul" => (vec![p, p, I64], vec![I64]),
        "kiln_list_repeat" | "kiln_list_to_array" => (vec![p, p, I64], vec![p]),
        "kiln_list_range" => (vec![I64, I64, I64], vec![p]),
        "kiln_list_reverse" => (vec![p], vec![]),
        "kiln_list_sort" => (vec![p, I64, I64], vec![]),
        "kiln_list_contains" => (vec![p, I64, I64, I64], vec![I64]),
        "kiln_list_reduce" => (vec![p, p, I64, I64], vec![p]),
        "kiln_str_concat" => (vec![p, p, p], vec![p]),
        "kiln_str_len" => (vec![p], vec![I64]),
        "kiln_raise_str" => (vec![p, I64, p], vec![]),
        "kiln_str_eq" => (vec![p, p], vec![I64]),
        "kiln_fmt_i64" | "kiln_fmt_bool" => (vec![p, I64, p, I64], vec![p]),
        "kiln_fmt_f64" => (vec![p, F64, p, I64], vec![p]),
        "kiln_fmt_f32" => (vec![p, F32, p, I64], vec![p]),
        "kiln_fmt_c128" => (vec![p, F64, F64, p, I64], vec![p]),
        "kiln_fmt_str" | "kiln_fmt_array" => (vec![p, p, p, I64], vec![p]),
        "kiln_repr_str" | "kiln_repr_array" => (vec![p, p], vec![p]),
        "kiln_write" => (vec![p, I64, p, I64], vec![]),
        "kiln_write_str" => (vec![p, I64, p], vec![]),
        "kiln_par_for" => (vec![p, p, p, I64, I64, p, p, p], vec![I64]),
        "kiln_par_for_lanes" => (vec![p, p, p, I64, I64, p, p, p, I64], vec![I64]),
        "kiln_gpu_for" => (vec![p, p, p, p, p], vec![I64]),
        "kiln_trace_if_none" => (vec![p, I64], vec![]),
        "kiln_bcast" => (vec![p, I64, p, I64, p, p], vec![I64]),
        "kiln_array_slice" | "kiln_array_reshape" => (vec![p, p, p, I64], vec![p]),
        "kiln_dot" => (vec![p, p, p], vec![p]),
        "kiln_dot_scalar" => (vec![p, p, p, p], vec![I64]),
        "kiln_array_astype" => (vec![p, p, I64], vec![p]),
        "kiln_array_reduce_axis" => (vec![p, p, I64, I64], vec![p]),
        "kiln_array_transpose" | "kiln_cumsum" => (vec![p, p], vec![p]),
        "kiln_mask_select" | "kiln_take" => (vec![p, p, p], vec![p]),
        "kiln_mask_assign" | "kiln_mask_assign_array" => (vec![p, p, p, p], vec![I64]),
        "kiln_eye" => (vec![p, I64, I64], vec![p]),
        "kiln_flip" | "kiln_matrix_power" => (vec![p, p, I64], vec![p]),
        "kiln_diagonal" | "kiln_flat_view" => (vec![p, p], vec![p]),
        "kiln_join" => (vec![p, p, I64, I64, I64, I64], vec![p]),
        "kiln_meshgrid" => (vec![p, p, p, I64, I64, I64], vec![p]),
        "kiln_seed" => (vec![I64], vec![]),
        "kiln_ffi_open" => (vec![p, p], vec![p]),
        "kiln_ffi_sym" => (vec![p, p, p, I64], vec![p]),
        "kiln_ffi_array_data" => (vec![p, p, I64, I64], vec![p]),
        "kiln_ffi_guarded" => (vec![p, p, p], vec![types::I32]),
        "kiln_ffi_fault" => (vec![p, I64, I64, p, I64], vec![]),
        "kiln_display" => (vec![p, p, I64], vec![]),
        "kiln_clear_output" => (vec![p, I64], vec![]),
        "kiln_plot" => (vec![p, I64, p], vec![]),
        "kiln_round_int" => (vec![I64, I64], vec![I64]),
        "kiln_cumsum_axis" => (vec![p, p, I64], vec![p]),
        "kiln_rand_scalar" => (vec![], vec![F64]),
        "kiln_rand" | "kiln_randn" => (vec![p, I64, p], vec![p]),
        "kiln_randint" => (vec![p, I64, I64, I64, p], vec![p]),
        "kiln_may_overlap" => (vec![p, p], vec![I64]),
        "kiln_broadcast_view" => (vec![p, p, I64, p], vec![p]),
        "kiln_reuse_or_new" => (vec![p, p, I64, I64, p], vec![p]),
        "kiln_pw_begin" => (vec![I64, I64], vec![p]),
        "kiln_pw_next" => (vec![p, p, p], vec![I64]),
        "kiln_pw_leaf" => (vec![p, p, I64, I64], vec![]),
        "kiln_pw_end" => (vec![p], vec![F64]),
        "kiln_pw_nodes" => (vec![I64, I64, p], vec![I64]),
        "kiln_pw_combine" => (vec![I64, I64, p], vec![F64]),
        "kiln_pow_i64" => (vec![p, I64, I64], vec![I64]),
        "kiln_m_arctan2" | "kiln_m_hypot" | "kiln_m_pow" | "kiln_m_py_fmod"
        | "kiln_m_py_floordiv" => (vec![F64, F64], vec![F64]),
        "kiln_m_round_n" | "kiln_m_np_round_n" => (vec![F64, I64], vec![F64]),
        "kiln_c_div" | "kiln_c_pow" => (vec![F64, F64, F64, F64, p], vec![]),
        "kiln_c_abs" => (vec![F64, F64], vec![F64]),
        n if n.starts_with("kiln_c_") => (vec![F64, F64, p], vec![]),
        n if n.starts_with("kiln_m_") => (vec![F64], vec![F64]),
        other => panic!("no signature for runtime function {other}"),
    }
}

impl<'a, 'b> Gen<'a, 'b> {
    pub(super) fn import(&mut self, name: &'static str) -> cranelift_codegen::ir::FuncRef {
        let id = match self.imports.get(name) {
            Some(&id) => id,
            None => {
                let (ps, rs) = runtime_sig(name);
                let mut sig = self.module.make_signature();
                sig.params.extend(ps.into_iter().map(AbiParam::new));
                sig.returns.extend(rs.into_iter().map(AbiParam::new));
                let id = self
                    .module
                    .declare_function(name, Linkage::Import, &sig)
                    .expect("runtime import");
                self.imports.insert(name, id);
                id
            }
        };
        self.module.declare_func_in_func(id, self.b.func)
    }

    pub(crate) fn call_rt(&mut self, name: &'static str, args: &[Value]) -> Vals {
        let f = self.import(name);
        let inst = self.b.ins().call(f, args);
        self.b.inst_results(inst).to_vec()
    }

    pub(crate) fn call_rt1(&mut self, name: &'static str, args: &[Value]) -> Value {
        self.call_rt(name, args)[0]
    }

    pub(crate) fn f64_call(&mut self, name: &'static str, t: &Ty, args: &[Value]) -> Value {
        if *t == Ty::F32 {
            let wide: Vec<Value> = args
                .iter()
                .map(|&a| self.b.ins().fpromote(types::F64, a))
                .collect();
            let r = self.call_rt1(name, &wide);
            self.b.ins().fdemote(types::F32, r)
        } else {
            self.call_rt1(name, args)
        }
    }

    /// A complex runtime function writing its result through a pointer.
    pub(crate) fn complex_call(&mut self, name: &'static str, args: &[Value]) -> Vals {
        let slot =
            self.b
                .create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 16, 3));
        let p = self.b.ins().stack_addr(types::I64, slot, 0);
        let mut a = args.to_vec();
        a.push(p);
        self.call_rt(name, &a);
        let re = self.b.ins().stack_load(types::I64, types::F64, slot, 0);
        let im = self.b.ins().stack_load(types::I64, types::F64, slot, 8);
        vec![re, im]
    }

    /// A shape tuple (i64 values) written to a stack slot for the runtime.
    pub(crate) fn shape_slot(&mut self, dims: &[Value]) -> Value {
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            8 * dims.len().max(1) as u32,
            3,
        ));
        for (k, &d) in dims.iter().enumerate() {
            self.b.ins().stack_store(types::I64, d, slot, 8 * k as i32);
        }
        self.b.ins().stack_addr(types::I64, slot, 0)
    }

    /// A runtime function that writes a scalar result of type `ty` (up to 16 bytes) through
    /// a pointer and returns nonzero on error: `args` gets the pointer and makes the call's
    /// arguments; the result is read back after the error check.
    pub(crate) fn call_rt_result(
        &mut self,
        name: &'static str,
        ty: &Ty,
        site: ir::SiteId,
        args: impl FnOnce(&mut Self, Value) -> Vec<Value>,
    ) -> Vals {
        let slot =
            self.b
                .create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 16, 3));
        let p = self.b.ins().stack_addr(types::I64, slot, 0);
        let args = args(self, p);
        let rc = self.call_rt1(name, &args);
        self.fail_if(rc, |_| vec![], site);
        clif_types(ty)
            .into_iter()
            .enumerate()
            .map(|(k, ct)| self.b.ins().stack_load(types::I64, ct, slot, 8 * k as i32))
            .collect()
    }
}
