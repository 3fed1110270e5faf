//! The `afterimage` command-line tool: `extract` turns a capture into feature and meta
//! tables, `replay` recomputes features from a meta table.

mod extract;
mod replay;
mod state_info;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::engine::{Config, LimitPolicy, DEFAULT_CLEANING_INTERVAL};
use crate::output::FeatureFormat;

/// AfterImage (Kitsune) features from packet captures.
#[derive(Parser, Debug)]
#[command(name = "afterimage", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Read a pcap or pcapng capture and write one feature row and one meta row per
    /// packet that has IPv4, IPv6 or ARP.
    Extract(extract::ExtractArgs),
    /// Recompute the features of a meta CSV (as written by `extract` or the Python
    /// reference), without parsing packets.
    Replay(replay::ReplayArgs),
    /// Inspect state files written by --state-out.
    #[command(subcommand)]
    State(StateCommand),
}

#[derive(Subcommand, Debug)]
enum StateCommand {
    /// Print what a state file holds: settings, counters, records and links.
    Info(state_info::InfoArgs),
}

/// Settings shared by every command that runs the engine.
#[derive(Args, Debug, Clone)]
struct EngineArgs {
    /// Decay factors λ in 1/s, comma separated; a window's weight halves every 1/λ s.
    #[arg(long, value_name = "LIST", default_value = "5,3,1,0.1,0.01", value_parser = parse_decay_factors)]
    decay: DecayFactors,

    /// Maximum number of live 1D records (default: no limit).
    #[arg(long, value_name = "N")]
    limit: Option<u64>,

    /// What to do with a packet that needs more records than --limit allows:
    /// reject it (it is counted as skipped) or evict the least recently updated records.
    #[arg(long, value_enum, default_value_t = PolicyArg::Reject)]
    limit_policy: PolicyArg,

    /// Number of updates between two cleaning rounds.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CLEANING_INTERVAL)]
    cleaning_interval: u64,
}

#[derive(Clone, Debug)]
struct DecayFactors(Vec<f64>);

fn parse_decay_factors(text: &str) -> Result<DecayFactors, String> {
    let mut factors = Vec::new();
    for part in text.split(',').map(str::trim).filter(|part| !part.is_empty()) {
        let value: f64 = part.parse().map_err(|_| format!("decay factor '{part}' is not a number"))?;
        factors.push(value);
    }
    Ok(DecayFactors(factors))
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum PolicyArg {
    Reject,
    Evict,
}

impl EngineArgs {
    fn config(&self) -> Config {
        Config {
            decay_factors: self.decay.0.clone(),
            record_limit: self.limit,
            limit_policy: match self.limit_policy {
                PolicyArg::Reject => LimitPolicy::Reject,
                PolicyArg::Evict => LimitPolicy::Evict,
            },
            cleaning_interval: self.cleaning_interval,
        }
    }
}

/// Output format of the feature table.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum FormatArg {
    /// CSV with the shortest decimal that reads back to the same float64 bits.
    Csv,
    /// CSV with seven digits after the point (the published package's `%.7f`).
    CsvFixed7,
    /// NumPy .npy (float64, one row per packet).
    Npy,
}

impl FormatArg {
    fn feature_format(self) -> FeatureFormat {
        match self {
            FormatArg::Csv => FeatureFormat::Csv,
            FormatArg::CsvFixed7 => FeatureFormat::CsvFixed7,
            FormatArg::Npy => FeatureFormat::Npy,
        }
    }

    fn extension(self) -> &'static str {
        match self {
            FormatArg::Csv | FormatArg::CsvFixed7 => "csv",
            FormatArg::Npy => "npy",
        }
    }
}

/// Returns the meta table's path for a feature table's path: `NAME_meta.csv` beside it.
fn meta_path_for(features: &std::path::Path) -> PathBuf {
    let stem = features.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
    features.with_file_name(format!("{stem}_meta.csv"))
}

/// Runs the command line; returns the process exit status.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Extract(args) => extract::run(&args),
        Command::Replay(args) => replay::run(&args),
        Command::State(StateCommand::Info(args)) => state_info::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("afterimage: error: {message}");
            ExitCode::from(2)
        }
    }
}
