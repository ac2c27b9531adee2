//! Builtin operations: the arguments are evaluated here (borrowed, owned temporaries released
//! afterwards); the instructions of each operation come from the family in `crate::builtins`
//! that lowers to it.

use super::*;
use crate::builtins::{self, Operands};

impl<'a, 'b> Gen<'a, 'b> {
    pub(crate) fn builtin(
        &mut self,
        op: &Builtin,
        args: &[Expr],
        ty: &Ty,
        site: ir::SiteId,
    ) -> Result<Vals, String> {
        let mut vals = Vec::new();
        let mut temps = Vec::new();
        let mark = self.held.len();
        for a in args {
            let (v, owned) = self.expr_borrow(a)?;
            if owned && a.ty.has_heap() {
                self.hold(&a.ty, &v);
                temps.push((a.ty.clone(), v.clone()));
            }
            vals.push(v);
        }
        let operands = Operands {
            vals,
            args,
            ty,
            site,
        };
        let out = builtins::clif(self, op, &operands)?;
        self.let_go(mark);
        for (t, v) in temps {
            self.release(&t, &v);
        }
        Ok(out)
    }
}
