; <cell>
;   1  n = 8
;   2  a = zeros(n)
    call kiln_array_new
    call kiln_decref
;   3  for i in range(n):
;   4      a[i] = i * 0.5
.L1:                               ; loop (innermost)
.L2:
.L3:                               ; loop (innermost)
;   3  for i in range(n):
.L4:
;   4      a[i] = i * 0.5
.L5:                               ; loop (innermost)
.L6:
;   3  for i in range(n):
.L7:                               ; loop (innermost)
;   4      a[i] = i * 0.5
.L8:
.L9:
;   2  a = zeros(n)
    call kiln_trace
;   4      a[i] = i * 0.5
.L10:
    call kiln_raise_msg
    call kiln_trace
.L11:
    call kiln_index_error
    call kiln_trace
.L12:
    call kiln_raise_interrupt
    call kiln_trace
.L13:
    call kiln_raise_msg
    call kiln_trace
.L14:
    call kiln_index_error
    call kiln_trace
.L15:
    call kiln_raise_interrupt
    call kiln_trace
.L16:

