"""Mutual logistics support under ACSA/MLSA agreements (PRODUCT.md §2, R10–R12).

`service` raises and moves orders through their workflow, `machine` is the state machine,
`rules` the checks R10–R12, `ledger` the store access, `reports` balances, ageing and the annual
report, `exchange` the file exchange and reconciliation between two nodes, `money` exact amounts.
"""
