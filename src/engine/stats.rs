//! The arithmetic of one damped statistic, in the reference's exact operation order.
//!
//! A 1D statistic keeps, for each decay factor λ, a weight `w`, a linear sum `s` and a
//! sum of squares `q`, all multiplied by `2^(-λ·Δt)` before each new value is added.
//! A 2D link between two 1D statistics keeps a damped sum of residual products.
//! Decay factors and the jitter's square come from the C library's `pow`, because
//! that is what the reference's numpy and Python floats call; Rust's `powf` is
//! rewritten by LLVM into `exp2` or a multiplication, which round differently.

use std::hint::black_box;

/// Weights below this count as empty: mean and variance read as 0.
pub const WEIGHT_THRESHOLD: f64 = 1e-3;
/// Sums of weights (for the covariance) and products of standard deviations (for the
/// correlation) below this read as 0.
pub const LINK_THRESHOLD: f64 = 2e-3;

extern "C" {
    /// The C library's `pow` (glibc's on Linux), which the reference's numpy and
    /// Python floats call.
    fn pow(base: f64, exponent: f64) -> f64;
}

/// Calls the C library's `pow`. The arguments go through `black_box` so that LLVM
/// cannot replace the call by `exp2` or `x * x`.
#[inline]
pub fn c_pow(base: f64, exponent: f64) -> f64 {
    // SAFETY: `pow` is a pure C function with no preconditions on its arguments.
    unsafe { pow(black_box(base), black_box(exponent)) }
}

/// Computes the decay multipliers `2^(-λ·Δt)` for a non-negative `elapsed` time.
/// `negated_decay` contains `-λ` for each decay factor (negation is exact).
#[inline]
pub fn decay_multipliers(negated_decay: &[f64], elapsed: f64, out: &mut [f64]) {
    for (multiplier, &factor) in out.iter_mut().zip(negated_decay) {
        *multiplier = c_pow(2.0, factor * elapsed);
    }
}

/// The value added to a 1D statistic: the square is computed as the reference does.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub value: f64,
    pub square: f64,
}

impl Sample {
    /// A frame size: an integer, whose square is exact.
    #[inline]
    pub fn size(size: i64) -> Sample {
        Sample { value: size as f64, square: (size * size) as f64 }
    }

    /// A time difference: Python squares a float with the C library's `pow`.
    #[inline]
    pub fn jitter(value: f64) -> Sample {
        Sample { value, square: c_pow(value, 2.0) }
    }
}

/// Mean of one window: `s / w`, or 0 below the weight threshold.
#[inline]
pub fn mean(weight: f64, sum: f64) -> f64 {
    if weight < WEIGHT_THRESHOLD { 0.0 } else { sum / weight }
}

/// Variance of one window: `|q / w - mean²|`, or 0 below the weight threshold.
#[inline]
pub fn variance(weight: f64, sum: f64, squares: f64) -> f64 {
    if weight < WEIGHT_THRESHOLD {
        0.0
    } else {
        let mean = sum / weight;
        (squares / weight - mean * mean).abs()
    }
}

/// A 1D statistic's values for D windows: `[w; D]`, then `[s; D]`, then `[q; D]`.
pub struct Stat1d<'a> {
    pub values: &'a mut [f64],
}

impl Stat1d<'_> {
    /// Sets the statistic to a single sample.
    #[inline]
    pub fn init(values: &mut [f64], sample: Sample) {
        let windows = values.len() / 3;
        let (weights, rest) = values.split_at_mut(windows);
        let (sums, squares) = rest.split_at_mut(windows);
        weights.fill(1.0);
        sums.fill(sample.value);
        squares.fill(sample.square);
    }

    /// Multiplies every sum by its window's multiplier.
    #[inline]
    pub fn decay(values: &mut [f64], multipliers: &[f64]) {
        let windows = multipliers.len();
        for chunk in values.chunks_exact_mut(windows) {
            for (value, &multiplier) in chunk.iter_mut().zip(multipliers) {
                *value *= multiplier;
            }
        }
    }

    /// Adds one sample to every window.
    #[inline]
    pub fn add(values: &mut [f64], sample: Sample) {
        let windows = values.len() / 3;
        let (weights, rest) = values.split_at_mut(windows);
        let (sums, squares) = rest.split_at_mut(windows);
        for weight in weights {
            *weight += 1.0;
        }
        for sum in sums {
            *sum += sample.value;
        }
        for square in squares {
            *square += sample.square;
        }
    }

    /// Writes weight, mean and standard deviation (D values each) to `out[..3D]`.
    #[inline]
    pub fn write_features(values: &[f64], out: &mut [f64]) {
        let windows = values.len() / 3;
        for i in 0..windows {
            let (weight, sum, squares) = (values[i], values[windows + i], values[2 * windows + i]);
            out[i] = weight;
            out[windows + i] = mean(weight, sum);
            out[2 * windows + i] = variance(weight, sum, squares).sqrt();
        }
    }

    /// Whether every window's weight, decayed by `multipliers`, is below the threshold.
    #[inline]
    pub fn is_outdated(values: &[f64], multipliers: &[f64]) -> bool {
        values.iter().zip(multipliers).all(|(&weight, &multiplier)| weight * multiplier < WEIGHT_THRESHOLD)
    }
}

/// Adds the residual product of one value to a link's damped sums.
#[inline]
pub fn add_residual(residuals: &mut [f64], value: f64, first: &[f64], second: &[f64]) {
    let windows = residuals.len();
    for i in 0..windows {
        let mean_first = mean(first[i], first[windows + i]);
        let mean_second = mean(second[i], second[windows + i]);
        residuals[i] += (value - mean_first) * (value - mean_second);
    }
}

/// Writes magnitude, radius, covariance and correlation (D values each) of a link
/// between the statistics `first` and `second` to `out[..4D]`.
#[inline]
pub fn write_link_features(residuals: &[f64], first: &[f64], second: &[f64], out: &mut [f64]) {
    let windows = residuals.len();
    for i in 0..windows {
        let (weight_first, sum_first, squares_first) = (first[i], first[windows + i], first[2 * windows + i]);
        let (weight_second, sum_second, squares_second) = (second[i], second[windows + i], second[2 * windows + i]);
        let mean_first = mean(weight_first, sum_first);
        let mean_second = mean(weight_second, sum_second);
        let variance_first = variance(weight_first, sum_first, squares_first);
        let variance_second = variance(weight_second, sum_second, squares_second);

        let weight_sum = weight_first + weight_second;
        let covariance = if weight_sum < LINK_THRESHOLD { 0.0 } else { residuals[i] / weight_sum };
        let deviation_product = variance_first.sqrt() * variance_second.sqrt();
        let correlation = if deviation_product < LINK_THRESHOLD { 0.0 } else { covariance / deviation_product };

        out[i] = (mean_first * mean_first + mean_second * mean_second).sqrt();
        out[windows + i] = (variance_first * variance_first + variance_second * variance_second).sqrt();
        out[2 * windows + i] = covariance;
        out[3 * windows + i] = correlation;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_pow_matches_known_values() {
        assert_eq!(c_pow(2.0, -1.0), 0.5);
        assert_eq!(c_pow(2.0, 0.5), std::f64::consts::SQRT_2);
        assert_eq!(c_pow(3.0, 2.0), 9.0);
        assert_eq!(c_pow(2.0, -0.0), 1.0);
    }

    #[test]
    fn mean_and_variance_below_threshold_are_zero() {
        assert_eq!(mean(0.0009, 5.0), 0.0);
        assert_eq!(variance(0.0009, 5.0, 30.0), 0.0);
        assert_eq!(mean(2.0, 5.0), 2.5);
        assert_eq!(variance(2.0, 4.0, 10.0), 1.0);
    }

    #[test]
    fn outdated_needs_every_window_below_threshold() {
        let weights = [0.5, 0.002];
        assert!(!Stat1d::is_outdated(&weights, &[0.001, 1.0]));
        assert!(Stat1d::is_outdated(&weights, &[0.001, 0.25]));
    }
}
