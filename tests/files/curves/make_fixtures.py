"""Writes the MMM-shaped curve fixtures in tests/files (run from the repository root; the files are committed).

Each file has the columns the tool's own code writes (see budgetopt/curves/tabulated.py); the numbers come from
known curves (Hill, logistic saturation) so that tests can check them.
"""
import numpy as np
import pandas as pd

out = "tests/files/curves/"

# Meridian: Analyzer.response_curves(...) -> xr.Dataset; ds.to_dataframe().reset_index().to_csv(index=False)
multipliers = np.arange(0, 2.2, 0.2)  # Meridian's default grid, floats as numpy makes them
historical = {"Channel0": 2_512_310.77, "Channel1": 1_804_455.20}
hill = {"Channel0": (1.0e6, 0.8, 2.9e6), "Channel1": (6.0e5, 2.2, 1.9e6)}  # (scale, slope, ec) per channel
rows = []
for channel, spend0 in historical.items():
    scale, slope, ec = hill[channel]
    for m in multipliers:
        spend = m * spend0
        mean = scale * spend**slope / (ec**slope + spend**slope) if m > 0 else 0.0
        for metric, value in (("mean", mean), ("ci_lo", 0.8 * mean), ("ci_hi", 1.25 * mean)):
            rows.append({"channel": channel, "metric": metric, "spend_multiplier": m, "spend": spend,
                         "incremental_outcome": value})
long = pd.DataFrame(rows)
long.to_csv(out + "meridian_long.csv", index=False)
# Meridian's own plotting pivots metric into columns (visualizer.MediaEffects, optimizer.OptimizationResults)
wide = long.pivot(index=["channel", "spend", "spend_multiplier"], columns="metric",
                  values="incremental_outcome").reset_index()
wide["current_spend"] = np.where(np.isclose(wide["spend_multiplier"], 1.0), "Current spend", pd.NA)
wide.to_csv(out + "meridian_wide.csv", index=False)

# Robyn: write.csv(AllocatorCollect$plots$p3$data, ...) (R writes row names as an unnamed first column)
robyn = {"tv_S": (95_000.0, 2.1, 14_000.0, 21_000.0, 1_800.0), "facebook_S": (60_000.0, 0.9, 9_000.0, 7_500.0, 650.0)}
lines = ['"","channel","spend","mean_carryover","carryover_response","total_response","constr_label",'
         '"constr_low_abs","constr_up_abs","constr_low_unb_abs","constr_up_unb_abs"']
n = 1
for channel, (coef, alpha, inflexion, init, carry) in robyn.items():
    spends = np.linspace(0, 1.5 * 1.2 * (init + carry), 21)  # seq(0, get_max_x, length.out = ...)
    carry_resp = coef / (1 + inflexion**alpha / carry**alpha)
    for x in spends:
        total = coef / (1 + inflexion**alpha / x**alpha) if x > 0 else 0.0
        label = f"{channel}\\n[0.7 - 1.2] & [0.7 - 1.2]"
        lines.append(f'"{n}","{channel}",{x:.15g},{carry:.15g},{carry_resp:.15g},{total:.15g},"{label}",'
                     f'{0.7 * init:.15g},{1.2 * init:.15g},{0.7 * init:.15g},{1.2 * init:.15g}')
        n += 1
open(out + "robyn_allocator.csv", "w").write("\n".join(lines).replace("\\n", "\n") + "\n")

# PyMC-Marketing: mmm.sensitivity.run_sweep(...) -> DataArray (sample, sweep, channel);
# df = result.to_dataframe(name="contribution").reset_index(); df["spend"] = df["sweep"] * total spend per channel
rng = np.random.default_rng(7)
sweeps = np.linspace(0, 2, 9)
totals = {"x1": 52_000.0, "x2": 31_500.0}
records = []
for sample in range(20):
    beta = {"x1": 4_000.0 * rng.lognormal(0, 0.1), "x2": 2_500.0 * rng.lognormal(0, 0.1)}
    lam = {"x1": 1.5 * rng.lognormal(0, 0.05), "x2": 3.0 * rng.lognormal(0, 0.05)}
    for sweep in sweeps:
        for channel in totals:
            beta_, lam_ = beta[channel], lam[channel]
            x = sweep  # spend relative to its historical level, as the model scales channel data
            records.append({"sample": sample, "sweep": sweep, "channel": channel,
                            "contribution": beta_ * (1 - np.exp(-lam_ * x)) / (1 + np.exp(-lam_ * x))})
pymc = pd.DataFrame(records).sort_values(["sample", "sweep", "channel"])
pymc["spend"] = pymc["sweep"] * pymc["channel"].map(totals)
pymc.to_csv(out + "pymc_sweep.csv", index=False)

# Meridian scenario planner, sheet response_curves (scenarioplanner/converters/dataframe)
planner = long[long["metric"] == "mean"].assign(**{"Group ID": "6f1c2a9e-3d4b-4c55-9a0e-1b2c3d4e5f60"})
planner = planner.rename(columns={"channel": "Channel", "spend": "Spend", "incremental_outcome": "Incremental Outcome"})
planner = planner[["Group ID", "Channel", "Spend", "Incremental Outcome"]]
planner.to_csv(out + "meridian_planner.csv", index=False)
