"""`rpl workbench`: edit a policy in the browser and see its diagnostics, decisions, examples,
impact, graph and document as you type (see docs/workbench.md)."""
