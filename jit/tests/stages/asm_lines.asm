# %% cell 1
; <cell>

# %% cell 2
; norm2(f64[:])
    call kiln_incref
; In [1] line 5      for k in range(v.shape[0]):
; In [1] line 6          s += v[k] * v[k]
.L1:                               ; loop (innermost)
.L2:
.L3:
.L4:                               ; loop (innermost)
; In [1] line 5      for k in range(v.shape[0]):
.L5:
; In [1] line 6          s += v[k] * v[k]
.L6:                               ; loop (innermost)
.L7:
.L8:
; In [1] line 5      for k in range(v.shape[0]):
.L9:                               ; loop (innermost)
; In [1] line 6          s += v[k] * v[k]
; In [1] line 7      return s
.L10:
    call kiln_decref
.L11:
; In [1] line 6          s += v[k] * v[k]
    call kiln_index_error
    call kiln_trace
.L12:
    call kiln_index_error
    call kiln_trace
.L13:
    call kiln_raise_interrupt
    call kiln_trace
.L14:
    call kiln_index_error
    call kiln_trace
.L15:
    call kiln_index_error
    call kiln_trace
.L16:
    call kiln_raise_interrupt
    call kiln_trace
; In [1] line 7      return s
.L17:
    call kiln_decref

; <cell>
;   1  m = ones((4, 3))
    call kiln_array_new
    call kiln_decref
;   2  total = 0.0
;   3  for i in range(m.shape[0]):
;   6      total += norm2(m[i])
;   3  for i in range(m.shape[0]):
.L1:                               ; loop
;   4      for j in range(m.shape[1]):
;   5          m[i, j] = i + j
.L2:                               ; loop (innermost)
.L3:
.L4:                               ; loop (innermost)
;   4      for j in range(m.shape[1]):
.L5:
;   5          m[i, j] = i + j
.L6:                               ; loop (innermost)
.L7:
;   4      for j in range(m.shape[1]):
.L8:                               ; loop (innermost)
;   5          m[i, j] = i + j
.L9:
;   6      total += norm2(m[i])
    call kiln_array_slice
    call kiln_decref
.L10:
;   7  print(total)
    call kiln_fmt_f64
    call kiln_write_str
    call kiln_decref
    call kiln_write
.L11:
;   1  m = ones((4, 3))
    call kiln_trace
.L12:
;   3  for i in range(m.shape[0]):
    call kiln_raise_msg
    call kiln_trace
.L13:
;   4      for j in range(m.shape[1]):
    call kiln_raise_msg
    call kiln_trace
.L14:
;   5          m[i, j] = i + j
    call kiln_raise_msg
    call kiln_trace
.L15:
    call kiln_index_error
    call kiln_trace
.L16:
    call kiln_index_error
    call kiln_trace
.L17:
    call kiln_raise_interrupt
    call kiln_trace
.L18:
    call kiln_raise_msg
    call kiln_trace
.L19:
    call kiln_index_error
    call kiln_trace
.L20:
    call kiln_index_error
    call kiln_trace
.L21:
    call kiln_raise_interrupt
    call kiln_trace
.L22:
;   6      total += norm2(m[i])
    call kiln_raise_msg
    call kiln_trace
.L23:
    call kiln_trace
.L24:
    call kiln_trace
.L25:
    call kiln_raise_interrupt
    call kiln_trace
.L26:
;   7  print(total)
    call kiln_trace
.L27:

# %% cell 3
; <cell>
;   1  out = zeros(100)
    call kiln_array_new
    call kiln_decref
;   3  for i in range(100):
    call kiln_par_for
.L1:
;   1  out = zeros(100)
    call kiln_trace
;   3  for i in range(100):
.L2:
    call kiln_trace
.L3:

; <cell> (parallel loop 0)
;   3  for i in range(100):
;   4      out[i] = sqrt(i * 1.0)
;   3  for i in range(100):
;   4      out[i] = sqrt(i * 1.0)
.L1:                               ; loop (innermost)
.L2:
;   3  for i in range(100):
.L3:                               ; loop
;   4      out[i] = sqrt(i * 1.0)
.L4:                               ; loop (innermost)
.L5:
.L6:
    call kiln_raise_msg
    call kiln_trace
.L7:
    call kiln_index_error
    call kiln_trace
.L8:
    call kiln_raise_interrupt
    call kiln_trace
.L9:
    call kiln_raise_interrupt
    call kiln_trace

