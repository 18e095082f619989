"""Which modules `make mutate` mutates, and which tests each mutant runs against.

The selection of a module: every test_*.py under tests/ that imports it (found by reading the
imports), plus tests/e2e/test_golden.py, plus the extras below; minus the deselected tests.
Bounded on purpose: a mutant runs only what can plausibly notice it, one process at a time.
"""

from __future__ import annotations

MODULES: tuple[str, ...] = (
    "compiler/policy/checks_security.py",
    "compiler/plan/compiled.py",
    "compiler/targets/terraform/aws_iam.py",
    "compiler/targets/terraform/gcp_iam.py",
    "compiler/analysis/graph.py",
    "compiler/analysis/run_order.py",  # split out of graph.py on main: run order and its cycles (MLC-E042)
    "compiler/output/writer.py",
    "compiler/output/cache.py",
    "compiler/core/secrets_scan.py",
    "compiler/output/diffing.py",
)

# module -> test files that exercise it without importing it by name
EXTRA_TESTS: dict[str, tuple[str, ...]] = {
    "compiler/policy/checks_security.py": ("tests/policy/test_policy_rules.py",),
    # plan() raises the capacity errors (MLC-E061..63) that test_capacity pins
    "compiler/plan/compiled.py": (
        "tests/targets/terraform/test_terraform.py",
        "tests/targets/terraform/test_terraform_gcp.py",
        "tests/plan/test_capacity.py",
    ),
    "compiler/targets/terraform/aws_iam.py": ("tests/providers/test_identity_agreement.py", "tests/targets/terraform/test_terraform.py"),
    "compiler/targets/terraform/gcp_iam.py": (
        "tests/targets/terraform/test_terraform_gcp.py",
        "tests/providers/test_identity_agreement.py",
    ),
    "compiler/analysis/run_order.py": ("tests/analysis/test_graph.py",),
    "compiler/output/cache.py": ("tests/output/test_gitops.py", "tests/output/test_paths.py"),
    # the _platform section of mlc diff (platform_diff, platform_in_memory) is pinned in test_platform
    "compiler/output/diffing.py": ("tests/output/test_gitops.py", "tests/output/test_paths.py", "tests/targets/platform/test_platform.py"),
}

# Deselected everywhere: tests whose verdict on a mutant is not reproducible on a shared
# 2-core machine: they kill by timing (SIGKILL after a sleep; a wall-clock bound that fails
# under load) or draw random specs. A survivor they would kill is counted as a survivor.
DESELECT: tuple[str, ...] = (
    "tests/output/test_gitops.py::test_a_kill_at_any_moment_leaves_each_environment_old_or_new",
    "tests/core/test_secrets.py::test_compiled_random_specs_hold_nothing_secret_looking",
    "tests/core/test_secrets.py::test_detection_is_linear_time",
    # exhaustive fault-injection loops: each recompiles a project once per write step (20-40
    # compiles, 30-200 s under load), which made one surviving writer mutant cost minutes;
    # their subject (each step failing) is pinned step by step in test_writer_safety.py and
    # test_writer_durability.py
    "tests/output/test_faults.py::test_a_write_fault_at_every_step_leaves_out_old_or_new_with_a_clear_message",
    "tests/output/test_faults.py::test_a_kill_at_every_write_step_including_the_prune_of_a_deleted_environment",
    "tests/output/test_faults.py::test_failures_before_the_first_swap_leave_out_exactly_as_it_was",
)
