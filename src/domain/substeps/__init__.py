"""The Step 6 sub-steps: one module each, declaring its `SubStep` with `@sub_step` (see `base`).

`domain.catalogue` discovers the modules of this package and derives everything else from
their declarations. Every sub-step makes at most one mutating platform call, carrying
`inp.meta` and so the idempotency key `<job_id>:<sub_step>` (cloudwaitressAccount looks the
account up first and may make none).
"""
