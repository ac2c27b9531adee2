"""Conformance with the Jupyter messaging protocol, checked by jupyter_kernel_test."""

import unittest

import jupyter_kernel_test


class KilnKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "kiln"
    language_name = "kiln"
    file_extension = ".kiln"

    code_hello_world = 'print("hello, world")'
    code_stderr = 'import sys\nprint("oops", file=sys.stderr)'

    completion_samples = [
        {"text": "linsp", "matches": {"linspace"}},
        {"text": "lins", "matches": {"linspace"}},
    ]

    complete_code_samples = ["1", "x = 1", 'print("hello")', "a, b = 1, 2"]
    incomplete_code_samples = ["def f(x):", "for i in range(3):", "y = (1 +"]
    invalid_code_samples = ["x = = 1", "1 +* 2"]

    code_page_something = "zeros?"
    code_generate_error = "1 // 0"
    code_execute_result = [{"code": "6*7", "result": "42"}]
    code_display_data = [{"code": "display(42)", "mime": "text/plain"}]

    code_history_pattern = "6*7"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "zeros"
    code_clear_output = "clear_output()"


class KilnIopubWelcomeTests(jupyter_kernel_test.IopubWelcomeTests):
    kernel_name = "kiln"
    support_iopub_welcome = True


if __name__ == "__main__":
    unittest.main()
