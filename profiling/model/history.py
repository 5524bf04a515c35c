"""Synthetic labelled histories that know each customer's true chance (the oracle).

`demo_history`  the people of the demo generator (cases.synthetic), each an episode in a region
                with its own unemployment rate; the outcome is drawn from the generator's own
                `integration_probability`. The model's defaults were chosen on this data.
`independent_history`
                a second, vectorised generator the model was NOT tuned on: its own population,
                its own correlations of sex, citizenship and age with the inputs, and a true
                probability of another form (interactions of care with single parenthood and of
                German with the target occupation area, a kink in the months of unemployment, a
                base rate near a third, a smaller regional effect, missing occupations). A model
                that only fits the demo generator's logistic form falls short of the oracle here.

Both are deterministic for a seed and return a LabelledData with `oracle` set.
"""

from __future__ import annotations

import random
from datetime import date

import numpy as np

from profiling.model.csvdata import LabelledData, make_data
from profiling.model.features import FEATURE_BY_NAME

HISTORY_TODAY = date(2026, 1, 1)  # fixed, so a seed always gives the same history
# Registered unemployment rates of German jobcenter districts, percent (a realistic spread).
REGION_RATES = (3.5, 4.1, 4.6, 5.2, 5.8, 6.3, 6.9, 7.4, 8.1, 8.8, 9.6, 10.5, 11.4, 12.2, 13.0)


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def demo_history(*, n: int, seed: int) -> LabelledData:
    """`n` episodes of the demo generator's people (about 0.2 ms each)."""
    from cases.synthetic import (
        _generate_teams,
        _Names,
        _PeopleGenerator,
        integration_probability,
    )

    generator = _PeopleGenerator(
        seed=seed, today=HISTORY_TODAY, names=_Names(seed), teams=_generate_teams(customers=n)
    )
    households, customers = generator.generate(n)
    regions = random.Random(f"{seed}:regions")  # noqa: S311 - simulation, not security
    outcomes_rng = random.Random(f"{seed}:outcomes")  # noqa: S311
    rows, outcomes, oracle, refs = [], [], [], []
    ages, sexes, citizenships, disabilities = [], [], [], []
    for customer in customers:
        profile = customer.profile
        household = households[customer.household]
        rate = regions.choice(REGION_RATES)
        p = integration_probability(profile=profile, region_unemployment_rate=rate)
        rows.append(
            {
                "school": str(profile.school),
                "vocational": str(profile.vocational),
                "german": str(profile.german),
                "work_months_5y": int(profile.work_months_5y),
                "months_unemployed": int(profile.months_unemployed),
                "months_in_benefit": int(profile.months_in_benefit),
                "health": str(profile.health),
                "care": str(profile.care),
                "single_parent": int(household.adults == 1 and household.children > 0),
                "driving_licence": int(bool(profile.driving_licence)),
                "debt": str(profile.debt),
                "housing": str(profile.housing),
                "motivation": str(profile.motivation),
                "region_unemployment_rate": rate,
                "target_kldb": profile.target_kldb or None,
            }
        )
        oracle.append(p)
        outcomes.append(int(outcomes_rng.random() < p))
        refs.append(customer.customer_number)
        ages.append(_age(customer.date_of_birth, HISTORY_TODAY))
        sexes.append(str(customer.sex))
        citizenships.append(str(customer.citizenship))
        disabilities.append(int(bool(customer.severe_disability)))
    return make_data(
        rows=rows,
        outcomes=outcomes,
        refs=refs,
        ages=ages,
        sex=sexes,
        citizenship=citizenships,
        disability=disabilities,
        oracle=np.asarray(oracle),
    )


# --- The independent generator ---------------------------------------------------------------------

_LANGUAGE_HEAVY_AREAS = (7, 8, 9)  # business and administration, health and teaching, media
_LANGUAGE_LIGHT_AREAS = (1, 2, 5)  # agriculture, production, logistics


def _levels(score: np.ndarray, cuts: tuple[float, ...]) -> np.ndarray:
    """Ordinal index: how many cuts the score exceeds."""
    return np.sum(score[:, None] > np.asarray(cuts)[None, :], axis=1)


def independent_true_probability(x: dict[str, np.ndarray]) -> np.ndarray:
    """The independent generator's true chance, from the model inputs alone (index-coded).

    `x` holds arrays: school, vocational, german, health, care, debt, housing, motivation as
    ordinal indices; single_parent, driving_licence as 0/1; the numbers; `area` the target
    occupation area (0 = unknown).
    """
    logit = np.full(len(x["school"]), -0.35)
    logit += np.array([-0.35, 0.0, 0.25, 0.35])[x["school"]]
    logit += np.array([-0.5, 0.35, 0.6])[x["vocational"]]
    # German: the gap below B2 costs more in language-heavy occupations, less in light ones.
    gap = np.maximum(0, 4 - x["german"])
    weight = np.where(
        np.isin(x["area"], _LANGUAGE_HEAVY_AREAS),
        0.55,
        np.where(np.isin(x["area"], _LANGUAGE_LIGHT_AREAS), 0.18, 0.33),
    )
    logit -= weight * gap
    # Work in the last five years: diminishing returns after three years.
    work = x["work_months_5y"]
    logit += 0.03 * np.minimum(work, 36) + 0.004 * np.maximum(work - 36, 0) - 0.5
    # Unemployment: hardly matters for half a year, then steeply, then slowly (a kink).
    unemployed = x["months_unemployed"]
    logit -= 0.075 * np.clip(unemployed - 6, 0, 18) + 0.006 * np.maximum(unemployed - 24, 0)
    logit -= 0.002 * x["months_in_benefit"]
    logit += np.array([0.0, -0.45, -1.4])[x["health"]]
    logit += np.array([0.0, -0.2, -0.55])[x["care"]]
    # Care duties weigh much more without a second adult in the household.
    logit -= x["single_parent"] * np.array([0.1, 0.45, 1.0])[x["care"]]
    logit += np.array([0.0, -0.1, -0.45])[x["debt"]]
    logit += np.array([0.0, -0.3, -0.85])[x["housing"]]
    logit += np.array([-1.2, 0.0, 0.5])[x["motivation"]]
    rate = x["region_unemployment_rate"]
    logit += 0.35 * x["driving_licence"] + 0.03 * x["driving_licence"] * (rate - 7.0)
    logit -= 0.07 * (rate - 7.0)
    return 1.0 / (1.0 + np.exp(-logit))


def independent_history(*, n: int, seed: int) -> LabelledData:
    """`n` episodes of a population unlike the demo generator's (vectorised, fast)."""
    rng = np.random.default_rng([seed, 20_300_401])
    # Audited attributes first; the inputs depend on them only through their own distributions.
    sex = rng.choice(np.array(["f", "m", "d"]), size=n, p=[0.51, 0.485, 0.005])
    citizenship = rng.choice(np.array(["de", "eu", "non_eu"]), size=n, p=[0.55, 0.13, 0.32])
    non_eu = citizenship == "non_eu"
    eu = citizenship == "eu"
    female = sex == "f"
    age = np.where(non_eu, rng.normal(36, 10, n), rng.normal(41, 12, n))
    age = np.clip(np.round(age), 18, 66).astype(int)
    z = rng.normal(0, 1, n)
    disability = (rng.random(n) < 0.015 + 0.0018 * (age - 18)).astype(int)

    school = _levels(
        0.6 * z + rng.normal(0, 0.8, n) - 0.45 * non_eu - 0.1 * eu - 0.01 * (age - 40),
        (-1.2, -0.1, 0.8),
    )
    vocational = _levels(0.55 * z + 0.35 * school + rng.normal(0, 0.75, n) - 0.35 * non_eu, (0.3,))
    vocational += (vocational == 1) & (school == 3) & (rng.random(n) < 0.45)
    # German index: 0 A0 .. 6 C2, 7 native.
    german = np.full(n, 7)
    german = np.where(
        (citizenship == "de") & (rng.random(n) < 0.06), 5 + rng.integers(0, 2, n), german
    )
    immigrant_level = np.clip(np.round(rng.normal(3.0, 1.4, n) + 0.3 * z), 0, 6).astype(int)
    german = np.where(non_eu & (rng.random(n) < 0.85), immigrant_level, german)
    eu_level = np.clip(np.round(rng.normal(3.8, 1.2, n)), 1, 6).astype(int)
    german = np.where(eu & (rng.random(n) < 0.8), eu_level, german)

    single_parent = (
        (age >= 20) & (age <= 52) & (rng.random(n) < np.where(female, 0.2, 0.025))
    ).astype(int)
    children = single_parent.astype(bool) | ((age >= 24) & (age <= 50) & (rng.random(n) < 0.3))
    care_score = rng.normal(0, 1, n) + 1.1 * children + 0.5 * (children & female) - 0.4
    care = _levels(care_score, (0.6, 1.6))
    work = 60 * (1 / (1 + np.exp(-(0.9 * z + rng.normal(0, 0.9, n) - 0.4 * care - 0.3 * non_eu))))
    work = np.clip(np.round(work - 0.6 * np.maximum(age - 55, 0)), 0, 60).astype(int)
    unemployed = np.round(rng.lognormal(2.3 - 0.4 * z + 0.015 * (age - 40), 0.9, n))
    unemployed = np.clip(unemployed, 0, 360).astype(int)
    in_benefit = np.clip(unemployed + np.round(rng.exponential(8, n)) - 3, 0, 420).astype(int)
    health = _levels(
        0.035 * (age - 40) - 0.3 * z + 1.6 * disability + rng.normal(0, 1, n), (0.5, 1.7)
    )
    debt = _levels(-0.3 * z + rng.normal(0, 1, n), (0.4, 1.4))
    housing = _levels(-0.25 * z + 0.3 * non_eu + rng.normal(0, 1, n), (0.9, 1.8))
    motivation = _levels(
        0.45 * z - 0.02 * np.minimum(unemployed, 48) + rng.normal(0, 0.9, n), (-1.0, 0.55)
    )
    licence = (
        rng.random(n) < np.clip(0.62 + 0.1 * z - 0.25 * non_eu - 0.1 * (age < 22), 0.05, 0.95)
    ).astype(int)
    rate = np.round(3.5 + rng.gamma(2.2, 1.5, n), 1)
    rate = np.clip(rate, 3.5, 13.0)

    # Target occupation: area by sex and school; a fifth unknown.
    area_weights = np.array(
        [
            [0.03, 0.12, 0.06, 0.02, 0.18, 0.14, 0.17, 0.24, 0.04],  # women
            [0.04, 0.30, 0.15, 0.03, 0.25, 0.07, 0.08, 0.06, 0.02],  # men
        ]
    )
    area = np.empty(n, dtype=int)
    men = ~female
    for row, mask in ((0, female), (1, men)):
        area[mask] = rng.choice(np.arange(1, 10), size=int(mask.sum()), p=area_weights[row])
    upper = (school == 3) & (rng.random(n) < 0.3)
    area[upper] = rng.choice(np.array([7, 8, 9]), size=int(upper.sum()))
    unknown_area = rng.random(n) < 0.2
    area[unknown_area] = 0
    detail = rng.integers(0, 10_000, n)

    coded = {
        "school": school,
        "vocational": vocational,
        "german": german,
        "work_months_5y": work,
        "months_unemployed": unemployed,
        "months_in_benefit": in_benefit,
        "health": health,
        "care": care,
        "single_parent": single_parent,
        "driving_licence": licence,
        "debt": debt,
        "housing": housing,
        "motivation": motivation,
        "region_unemployment_rate": rate,
        "area": area,
    }
    truth = independent_true_probability(coded)
    outcomes = (rng.random(n) < truth).astype(int)

    def values(name: str) -> list:
        return [FEATURE_BY_NAME[name].values[i] for i in coded[name].tolist()]

    ordinal = {
        name: values(name)
        for name in (
            "school",
            "vocational",
            "german",
            "health",
            "care",
            "debt",
            "housing",
            "motivation",
        )
    }
    kldb = [
        None if a == 0 else f"{a}{d:04d}"
        for a, d in zip(area.tolist(), detail.tolist(), strict=True)
    ]
    numbers = {name: coded[name].tolist() for name in FEATURE_BY_NAME if name in coded}
    rows = [
        {
            "school": ordinal["school"][i],
            "vocational": ordinal["vocational"][i],
            "german": ordinal["german"][i],
            "work_months_5y": numbers["work_months_5y"][i],
            "months_unemployed": numbers["months_unemployed"][i],
            "months_in_benefit": numbers["months_in_benefit"][i],
            "health": ordinal["health"][i],
            "care": ordinal["care"][i],
            "single_parent": numbers["single_parent"][i],
            "driving_licence": numbers["driving_licence"][i],
            "debt": ordinal["debt"][i],
            "housing": ordinal["housing"][i],
            "motivation": ordinal["motivation"][i],
            "region_unemployment_rate": numbers["region_unemployment_rate"][i],
            "target_kldb": kldb[i],
        }
        for i in range(n)
    ]
    return make_data(
        rows=rows,
        outcomes=outcomes,
        refs=[f"IND{seed}-{i + 1:07d}" for i in range(n)],
        ages=age.tolist(),
        sex=sex.tolist(),
        citizenship=citizenship.tolist(),
        disability=disability.tolist(),
        oracle=truth,
    )
