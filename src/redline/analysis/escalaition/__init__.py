"""EscalAItion reproduced: the escalation score of Rivera et al. (FAccT 2024), computed from their
published run logs or from any run of redline's ``escalaition`` scenario; their action
distributions fitted per model and situation; and the statistical power of their 10-run design.

Modules: :mod:`.actions` (their 27 actions and the scorer's categories), :mod:`.logs` (reading
their ``actions_v3`` logs and ``json_v6`` score files), :mod:`.scoring` (their scorer, exactly,
and a corrected one), :mod:`.study` (run and cell scores with intervals, the reproduction table),
:mod:`.fit` (action distributions per model and situation), :mod:`.power` (how often 10 runs
tell two models apart), :mod:`.runs` (scores of redline runs).
"""
