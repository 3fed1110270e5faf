//! Helpers shared by the integration tests: fixture paths, running the command-line
//! tool, and comparing tables with the reference's.

#![allow(dead_code)]

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use flate2::read::GzDecoder;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn capture(file_name: &str) -> PathBuf {
    fixtures().join("captures").join(file_name)
}

/// Every fixture capture's file name, sorted.
pub fn capture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures().join("captures"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The capture's name without its extension, which names its expected outputs.
pub fn stem(file_name: &str) -> String {
    Path::new(file_name).file_stem().unwrap().to_string_lossy().into_owned()
}

/// Reads a gzip-compressed expected output, or `None` when the reference wrote none.
pub fn expected(stem: &str, file: &str) -> Option<String> {
    let path = fixtures().join("expected").join(stem).join(format!("{file}.gz"));
    let mut text = String::new();
    GzDecoder::new(File::open(path).ok()?).read_to_string(&mut text).unwrap();
    Some(text)
}

pub fn afterimage(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_afterimage")).args(args).output().unwrap()
}

/// Result of `afterimage extract` into a temporary folder.
pub struct Extracted {
    pub output: Output,
    pub features: Option<String>,
    pub meta: Option<String>,
    pub folder: tempfile::TempDir,
}

pub fn extract(capture: &Path, extra: &[&str]) -> Extracted {
    let folder = tempfile::tempdir().unwrap();
    let features_path = folder.path().join("features.csv");
    let mut args: Vec<&std::ffi::OsStr> =
        vec!["extract".as_ref(), capture.as_os_str(), "-o".as_ref(), features_path.as_os_str(), "--quiet".as_ref()];
    args.extend(extra.iter().map(|arg| std::ffi::OsStr::new(arg)));
    let output = afterimage(&args);
    let features = std::fs::read_to_string(&features_path).ok();
    let meta = std::fs::read_to_string(folder.path().join("features_meta.csv")).ok();
    Extracted { output, features, meta, folder }
}

/// Compares two feature tables value by value as float64 bits. Returns the first
/// differences found (at most 5) and the number of differing values.
pub fn compare_features(expected: &str, actual: &str) -> Result<(), String> {
    let mut expected_lines = expected.lines();
    let mut actual_lines = actual.lines();
    let expected_header = expected_lines.next().unwrap_or_default();
    let actual_header = actual_lines.next().unwrap_or_default();
    if expected_header != actual_header {
        return Err(format!("headers differ:\n  expected {expected_header}\n  actual   {actual_header}"));
    }
    let columns: Vec<&str> = expected_header.split(',').collect();
    let mut problems = Vec::new();
    let mut differing = 0usize;
    let mut row = 0usize;
    loop {
        let (expected_row, actual_row) = (expected_lines.next(), actual_lines.next());
        row += 1;
        match (expected_row, actual_row) {
            (None, None) => break,
            (Some(_), None) | (None, Some(_)) => {
                return Err(format!(
                    "row counts differ: expected {}, actual {}",
                    expected.lines().count() - 1,
                    actual.lines().count() - 1
                ))
            }
            (Some(expected_row), Some(actual_row)) => {
                for (column, (a, b)) in expected_row.split(',').zip(actual_row.split(',')).enumerate() {
                    let a_bits = a.parse::<f64>().map(f64::to_bits);
                    let b_bits = b.parse::<f64>().map(f64::to_bits);
                    if a_bits.is_err() || a_bits != b_bits {
                        differing += 1;
                        if problems.len() < 5 {
                            problems.push(format!("row {row} {}: expected {a}, actual {b}", columns[column]));
                        }
                    }
                }
            }
        }
    }
    if differing == 0 {
        Ok(())
    } else {
        Err(format!("{differing} values differ:\n  {}", problems.join("\n  ")))
    }
}

/// Compares two meta tables row by row as text.
pub fn compare_meta(expected: &str, actual: &str) -> Result<(), String> {
    let expected_rows: Vec<&str> = expected.lines().collect();
    let actual_rows: Vec<&str> = actual.lines().collect();
    let differing: Vec<String> = expected_rows
        .iter()
        .zip(&actual_rows)
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .take(5)
        .map(|(row, (a, b))| format!("line {}: expected {a}\n          actual   {b}", row + 1))
        .collect();
    if expected_rows.len() != actual_rows.len() {
        return Err(format!("line counts differ: expected {}, actual {}", expected_rows.len(), actual_rows.len()));
    }
    if differing.is_empty() {
        Ok(())
    } else {
        Err(differing.join("\n"))
    }
}
