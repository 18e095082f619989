"""Policy engine: built-in Python rules and KCL policies, producing one Finding type.

    catalog.py        Rule metadata (id, title = the good state, severity, rationale, fix): data
    checks_*.py       one small stateless function per Python rule: (Compiled) -> Iterable[Hit]
    registry.py       the explicit tuple rule id -> check (no registration on import)
    hits.py           Hit and the helpers checks share (prod detection, "where to fix" location)
    kcl.py            compiler/policy/kcl/*.k + <project>/policies/*.k in ONE kcl-lib call per
                      environment, each file in its own package; broken files -> MLC-E090/E091
    waivers.py        `exceptions:` validation (MLC-E080..082) and application (GOV-002/003)
    engine.py         run_policies / validate_waivers / all_rules / explain
    render.py         text, JSON, SARIF 2.1.0, GitHub annotations; exit_code(--fail-on)
    findings.py       Finding, the one result type

Nothing here reads the clock, the environment or argv: `today` and the policies folder
are parameters. kcl-lib is imported only when KCL policies are evaluated.
"""
