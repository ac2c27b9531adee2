//! Boolean-mask and integer-array indexing (`masks.rs`), checked against NumPy's answers.

use super::*;
use crate::masks::{mask_assign, mask_assign_array, mask_select, take};
use crate::ArrayRef;

fn owned(dtype: DType, shape: &[i64], data: &Data) -> ArrayRef {
    unsafe { ArrayRef::from_owned(make_array(dtype, shape, data)) }
}

#[test]
fn select_assign_and_take() {
    let _g = serial();
    // a = np.arange(6.0).reshape(2, 3); m = a % 2 == 1
    let a = f64_array(&[2, 3], &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    let m = owned(
        DType::Bool,
        &[2, 3],
        &Data::Bool(&[false, true, false, true, false, true]),
    );
    unsafe {
        let s = ArrayRef::from_owned(mask_select(a.as_ptr(), m.as_ptr()).unwrap());
        assert_eq!(s.to_f64_vec(), vec![1.0, 3.0, 5.0]);
        // a[m] = -1.0
        let minus = (-1.0f64).to_ne_bytes();
        mask_assign(a.as_ptr(), m.as_ptr(), minus.as_ptr()).unwrap();
        assert_eq!(a.to_f64_vec(), vec![0.0, -1.0, 2.0, -1.0, 4.0, -1.0]);
        // a[m] = np.array([7.0, 8.0, 9.0]); three values for three places
        let v = f64_array(&[3], &[7.0, 8.0, 9.0]);
        mask_assign_array(a.as_ptr(), m.as_ptr(), v.as_ptr()).unwrap();
        assert_eq!(a.to_f64_vec(), vec![0.0, 7.0, 2.0, 8.0, 4.0, 9.0]);
        let two = f64_array(&[2], &[1.0, 2.0]);
        let e = mask_assign_array(a.as_ptr(), m.as_ptr(), two.as_ptr()).unwrap_err();
        assert_eq!(e.0, ErrorKind::ValueError);
        // a[np.array([1, -2, 1])]: rows, negative from the end
        let idx = owned(DType::I64, &[3], &Data::I64(&[1, -2, 1]));
        let t = ArrayRef::from_owned(take(a.as_ptr(), idx.as_ptr()).unwrap());
        assert_eq!(t.shape(), &[3, 3]);
        assert_eq!(
            t.to_f64_vec(),
            vec![8.0, 4.0, 9.0, 0.0, 7.0, 2.0, 8.0, 4.0, 9.0]
        );
        let bad = owned(DType::I64, &[1], &Data::I64(&[2]));
        let e = take(a.as_ptr(), bad.as_ptr()).unwrap_err();
        assert_eq!(
            e,
            (
                ErrorKind::IndexError,
                "index 2 is out of bounds for axis 0 with size 2".to_string()
            )
        );
        let short = owned(DType::Bool, &[3], &Data::Bool(&[true, false, true]));
        let e = mask_select(a.as_ptr(), short.as_ptr()).unwrap_err();
        assert_eq!(e.0, ErrorKind::IndexError);
    }
}
