"""Sobol indices and Morris screening through redline's own pipeline: the Ishigami function's
known indices recovered from a scenario whose outcome probability is an affine map of it
(``data/ishigami.yaml``), the Monte Carlo noise's share against its closed form, the noise
correction moving the indices toward the truth, convergence, Morris finding an inert
uncertainty inert, the same answer on any thread count, and clear errors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redline.analysis.sensitivity import Sensitivity, morris, sobol
from redline.errors import RedlineValueError
from redline.scenario.loader import load_scenario
from redline.scenario.model import Scenario

DATA = Path(__file__).parent / "data"
#: Ishigami (a = 7, b = 0.1): first-order and total indices of x1, x2, x3
#: (and of the dummy x4, drawn and used nowhere)
S1 = {"s1": 0.3139, "s2": 0.4424, "x3": 0.0, "x4": 0.0}
ST = {"s1": 0.5576, "s2": 0.4424, "x3": 0.2437, "x4": 0.0}
#: the scenario's affine map: p = (f + 10.75) / 28.5
SCALE = 28.5
RUNS = 64


def ishigami_noise_share(runs: int) -> float:
    """The Monte Carlo share of the variance of p̂ at ``runs`` runs a point, in closed form:
    Var f = a²/8 + bπ⁴/5 + b²π⁸/18 + 1/2, E p = 1/2, E[p(1 − p)] = E p − E p² ."""
    a, b = 7.0, 0.1
    var_f = a**2 / 8 + b * math.pi**4 / 5 + b**2 * math.pi**8 / 18 + 0.5
    var_p = var_f / SCALE**2
    noise = (0.5 - (var_p + 0.25)) / runs
    return noise / (var_p + noise)


@pytest.fixture(scope="module")
def ishigami() -> Scenario:
    return load_scenario(DATA / "ishigami.yaml").scenario


@pytest.fixture(scope="module")
def result(ishigami: Scenario) -> Sensitivity:
    return sobol(ishigami, n=1024, runs_per_point=RUNS, seed=3)


def by_factor(result: Sensitivity, column: str) -> dict[str, float]:
    rows = result.indices.to_pylist()
    return {r["factor"]: r[column] for r in rows}


def test_the_ishigami_indices_are_recovered_through_a_scenario(result: Sensitivity) -> None:
    s1, st_ = by_factor(result, "S1"), by_factor(result, "ST")
    for name in S1:
        assert s1[name] == pytest.approx(S1[name], abs=0.1), (name, s1[name])
        assert st_[name] == pytest.approx(ST[name], abs=0.08), (name, st_[name])
    # the ranking a reader takes away: x2 first by first order, x1 first by total, x3 last
    assert max(s1, key=lambda k: s1[k]) == "s2"
    assert max(st_, key=lambda k: st_[k]) == "s1"
    assert sorted(st_, key=lambda k: st_[k])[:2] == ["x4", "x3"]


def test_the_noise_share_is_the_binomial_variance_share(result: Sensitivity) -> None:
    row = result.noise.to_pylist()[0]
    assert row["noise_share"] == pytest.approx(ishigami_noise_share(RUNS), abs=0.02)
    assert row["mean"] == pytest.approx(0.5, abs=0.01)


def test_the_noise_correction_moves_the_total_indices_toward_the_truth(
    result: Sensitivity,
) -> None:
    """Raw total indices carry the points' Monte Carlo variance (the dummy's is about the
    noise share, x3's is half as large again); the corrected ones do not."""
    corrected, raw = by_factor(result, "ST"), by_factor(result, "ST_raw")
    for name, truth in ST.items():
        assert abs(corrected[name] - truth) < abs(raw[name] - truth), name
    assert raw["x4"] == pytest.approx(ishigami_noise_share(RUNS), abs=0.03)
    assert abs(corrected["x4"]) < 0.03


def test_convergence_narrows_the_intervals(result: Sensitivity) -> None:
    rows = result.convergence.to_pylist()
    sizes = sorted({r["n"] for r in rows})
    assert sizes == [16 << k for k in range(7)]
    final = {(r["factor"]): r for r in result.indices.to_pylist()}
    for name in S1:
        mine = {r["n"]: r for r in rows if r["factor"] == name}
        assert mine[1024]["S1"] == pytest.approx(final[name]["S1"])
        for key in ("S1_conf", "ST_conf"):
            assert mine[1024][key] < mine[64][key] / 2, (name, key)


def test_the_json_form_has_every_table_and_no_nan(result: Sensitivity) -> None:
    body = result.to_json()
    assert body["method"] == "sobol" and body["points"] == 1024 * 6
    assert {f["name"] for f in body["factors"]} == set(S1)
    assert len(body["indices"]) == 4 and len(body["convergence"]) == 4 * 7
    assert body["findings"] == []  # a noise share of 18% is below the warning


def test_the_same_indices_on_any_thread_count(ishigami: Scenario) -> None:
    one = sobol(ishigami, n=16, runs_per_point=8, seed=1, threads=1)
    two = sobol(ishigami, n=16, runs_per_point=8, seed=1, threads=2)
    assert one.indices.equals(two.indices) and one.noise.equals(two.noise)


def test_morris_tells_the_dummy_from_the_factors_that_act(ishigami: Scenario) -> None:
    """The dummy's μ* is about the noise floor (what Monte Carlo noise alone gives); every
    factor that acts is well above it (x3 least: its effect is in its tails, x3⁴)."""
    m = morris(ishigami, trajectories=20, runs_per_point=800, seed=2)
    rows = {r["factor"]: r for r in m.indices.to_pylist()}
    floor = rows["x4"]["noise_floor"]
    assert rows["x4"]["mu_star"] < 2 * floor
    for name in ("s1", "s2", "x3"):
        assert rows[name]["mu_star"] > 2.5 * floor, name
    assert m.points == 20 * 5


def test_a_ranged_parameter_is_a_factor() -> None:
    box = load_scenario(DATA / "planted-box.yaml").scenario
    s = sobol(box, n=16, runs_per_point=2, params={"gate": (0.0, 1.0)}, uncertainties=["a"])
    assert [(f.name, f.kind) for f in s.factors] == [("a", "uncertainty"), ("gate", "parameter")]
    assert s.points == 16 * 4


@pytest.mark.parametrize(
    ("kwargs", "said"),
    [
        ({"n": 100}, "n must be a power of two"),
        ({"n": 8}, "n must be a power of two, at least 16"),
        ({"runs_per_point": 1}, "runs_per_point must be at least 2"),
        ({"outcomes": ["hits"]}, "outcomes: unknown outcome 'hits'"),
        ({"params": {"nope": (0.0, 1.0)}}, "params: unknown parameter 'nope'"),
        ({"params": {"x3": (0.0, 1.0)}}, "'x3' is an uncertainty"),
        ({"uncertainties": ["x5"]}, "uncertainties: unknown drawn uncertainty 'x5'"),
        ({"backend": "gpu"}, "backend must be one of"),
        ({"levers": {"posture": "firm"}}, "levers/lens: unknown lever 'posture'"),
    ],
)
def test_bad_arguments_say_what_is_wrong(
    ishigami: Scenario, kwargs: dict[str, object], said: str
) -> None:
    args: dict[str, object] = {"n": 16, "runs_per_point": 2, **kwargs}
    with pytest.raises(RedlineValueError, match=said.replace("(", r"\(")):
        sobol(ishigami, **args)  # type: ignore[arg-type]


@settings(max_examples=30, deadline=None)
@given(
    low=st.floats(-1e6, 1e6, allow_nan=False),
    width=st.floats(0.0, 1e6, allow_nan=False),
)
def test_a_parameter_range_is_taken_when_low_is_below_high(low: float, width: float) -> None:
    """Any finite low < high is a factor uniform over it; anything else is refused by name."""
    from redline.analysis.factors import factors
    from redline.compile.configure import resolve

    box = load_scenario(DATA / "planted-box.yaml").scenario
    config = resolve(box)
    high = low + width
    if low < high:
        fs = factors(box, config, {"gate": (low, high)})
        gate = fs[-1]
        assert gate.name == "gate" and gate.kind == "parameter"
        values = gate.values(np.array([0.0, 0.5, 1.0]))
        edge = 1e-11 * max(1.0, width)  # the design keeps off the edges by 1e-12
        assert values[0] == pytest.approx(low, rel=1e-9, abs=edge)
        assert values[-1] == pytest.approx(high, rel=1e-9, abs=edge)
    else:
        with pytest.raises(RedlineValueError, match="the range of 'gate'"):
            factors(box, config, {"gate": (low, high)})


def test_the_python_api_takes_a_scenario_file_and_a_method() -> None:
    import redline

    m = redline.sensitivity(
        DATA / "ishigami.yaml", method="morris", trajectories=2, runs_per_point=2
    )
    assert isinstance(m, redline.Screening) and m.points == 2 * 5
    with pytest.raises(RedlineValueError, match="method must be 'sobol' or 'morris'"):
        redline.sensitivity(DATA / "ishigami.yaml", method="saltelli")


def test_the_correction_removes_known_independent_noise_from_a_linear_model() -> None:
    """On SALib's own design, y = x1 + 2·x2 (x uniform: S1 = ST = 1/5, 4/5, x3 a dummy) plus
    independent noise of known variance as large as the signal's: the raw indices are halved
    (first order) or carry the noise (total); the corrected ones are the truth."""
    from SALib.sample import sobol as sample

    from redline.analysis.sensitivity import sobol_indices

    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[0.0, 1.0]] * 3}
    x = sample.sample(problem, 4096, calc_second_order=False, seed=0)
    signal = x[:, 0] + 2 * x[:, 1]
    noise_var = np.full(len(x), 5 / 12)  # Var(signal) = (1 + 4)/12
    y = signal + np.random.default_rng(0).normal(0.0, np.sqrt(noise_var))
    got = sobol_indices(y, noise_var, 3, seed=0)
    assert got["S1"] == pytest.approx([0.2, 0.8, 0.0], abs=0.1)  # intervals ±0.07
    assert got["ST"] == pytest.approx([0.2, 0.8, 0.0], abs=0.05)
    assert got["S1_raw"] == pytest.approx([0.1, 0.4, 0.0], abs=0.05)
    assert got["ST_raw"] == pytest.approx([0.6, 0.9, 0.5], abs=0.05)


def test_an_outcome_drowned_in_noise_gets_no_index_and_says_why() -> None:
    from redline.analysis.sensitivity import _noise_findings, noise_table

    p = np.array([[0.5], [0.5], [0.0], [0.1]])
    table = noise_table([("war", "war")], p, np.full((4, 1), 0.1), np.arange(4))
    [said] = _noise_findings(table, 10)
    assert "as large as the whole variance" in said and "no index is given" in said


def test_a_design_at_the_edge_of_an_unbounded_distribution_stays_finite() -> None:
    """Morris's grid and the unit cube's edges: a normal factor's values are finite there."""
    from redline.analysis.factors import Factor
    from redline.core.distributions import NormalDraw

    z = Factor("z", "uncertainty", NormalDraw(0.0, 1.0))
    values = z.values(np.array([0.0, 0.5, 1.0]))
    assert np.isfinite(values).all() and values[1] == 0.0 and -8 < values[0] < -6
