; <cell>
.L1:                               ; loop (innermost)
;  14  mandel(-0.5, 0.5, 100)
.L2:

