//! Samples grouped by round, their median/min/max, and per-round ratios between two tools.
//!
//! A *round* measures every tool of a workload once (in a rotating order), so a ratio is always
//! taken between figures measured minutes apart at most, under the same machine conditions.

/// Median, minimum and maximum of some samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Summary {
    /// How many samples.
    pub(crate) runs: usize,
    /// Median (mean of the middle two for an even count).
    pub(crate) median: f64,
    /// Smallest sample.
    pub(crate) min: f64,
    /// Largest sample.
    pub(crate) max: f64,
}

/// The summary of `values`; `None` when there are none.
pub(crate) fn summary(values: &[f64]) -> Option<Summary> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 };
    Some(Summary { runs: n, median, min: v[0], max: v[n - 1] })
}

/// Samples of one figure, kept per round.
#[derive(Debug, Clone, Default)]
pub(crate) struct Series {
    rounds: Vec<Vec<f64>>,
}

impl Series {
    /// Records one sample taken in `round`.
    pub(crate) fn record(&mut self, round: usize, value: f64) {
        if self.rounds.len() <= round {
            self.rounds.resize(round + 1, Vec::new());
        }
        self.rounds[round].push(value);
    }

    /// Every sample, in the order taken.
    pub(crate) fn samples(&self) -> Vec<f64> {
        self.rounds.iter().flatten().copied().collect()
    }

    /// Median/min/max over every sample.
    pub(crate) fn summary(&self) -> Option<Summary> {
        summary(&self.samples())
    }

    /// The round's own figure: the median of the samples taken in it.
    fn round_value(&self, round: usize) -> Option<f64> {
        self.rounds.get(round).and_then(|r| summary(r)).map(|s| s.median)
    }

    /// Number of rounds with at least one sample.
    fn round_count(&self) -> usize {
        self.rounds.len()
    }
}

/// `a / b` in every round where both were measured, summarised.
pub(crate) fn ratio(a: &Series, b: &Series) -> Option<Summary> {
    let rounds = a.round_count().max(b.round_count());
    let values: Vec<f64> = (0..rounds)
        .filter_map(|r| match (a.round_value(r), b.round_value(r)) {
            (Some(x), Some(y)) if y > 0.0 => Some(x / y),
            _ => None,
        })
        .collect();
    summary(&values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        let s = summary(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.runs, s.median, s.min, s.max), (3, 2.0, 1.0, 3.0));
        let s = summary(&[4.0, 1.0, 2.0, 3.0]).unwrap();
        assert_eq!(s.median, 2.5);
        assert!(summary(&[]).is_none());
    }

    #[test]
    fn ratios_pair_samples_of_the_same_round() {
        let mut a = Series::default();
        let mut b = Series::default();
        a.record(0, 1.0);
        b.record(0, 2.0);
        a.record(1, 3.0);
        a.record(1, 5.0); // round median 4
        b.record(1, 4.0);
        a.record(2, 9.0); // b missing in round 2: not paired
        let r = ratio(&a, &b).unwrap();
        assert_eq!((r.runs, r.min, r.max), (2, 0.5, 1.0));
    }
}
