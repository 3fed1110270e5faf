//! The `afterimage` command-line tool: `extract` turns a capture into feature and meta
//! tables, `replay` recomputes features from a meta table.

mod extract;
mod replay;
mod state_info;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

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

    /// Policy for a packet that needs more records than --limit allows: reject it (it
    /// is counted as skipped) or evict the least recently updated records.
    #[arg(long, value_enum, default_value_t = PolicyArg::Reject, requires = "limit")]
    limit_policy: PolicyArg,

    /// Number of updates between two cleaning rounds.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CLEANING_INTERVAL)]
    cleaning_interval: u64,
}

#[derive(Clone, Debug)]
struct DecayFactors(Vec<f64>);

fn parse_decay_factors(text: &str) -> Result<DecayFactors, String> {
    let mut factors: Vec<f64> = Vec::new();
    for part in text.split(',').map(str::trim) {
        if part.is_empty() {
            return Err(format!("'{text}' has an empty entry; give comma-separated numbers such as 5,3,1,0.1,0.01"));
        }
        let value: f64 = part.parse().map_err(|_| format!("decay factor '{part}' is not a number"))?;
        if !value.is_finite() || value <= 0.0 {
            return Err(format!("decay factor '{part}' is invalid: each must be a finite number greater than 0"));
        }
        if factors.iter().any(|factor| factor.to_bits() == value.to_bits()) {
            return Err(format!("decay factor '{part}' is given twice; each window needs its own factor"));
        }
        factors.push(value);
    }
    Ok(DecayFactors(factors))
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum PolicyArg {
    Reject,
    Evict,
}

/// The engine options given on the command line rather than taken from defaults.
#[derive(Clone, Copy, Debug, Default)]
struct ExplicitOptions {
    decay: bool,
    limit: bool,
    limit_policy: bool,
    cleaning_interval: bool,
}

impl ExplicitOptions {
    fn from_matches(matches: Option<&ArgMatches>) -> ExplicitOptions {
        let given = |id: &str| {
            matches.is_some_and(|matches| matches.value_source(id) == Some(ValueSource::CommandLine))
        };
        ExplicitOptions {
            decay: given("decay"),
            limit: given("limit"),
            limit_policy: given("limit_policy"),
            cleaning_interval: given("cleaning_interval"),
        }
    }
}

impl EngineArgs {
    /// Checks that every engine option given on the command line equals the loaded
    /// state's setting; options left out are taken from the state.
    fn check_against_state(&self, state: &Config, explicit: ExplicitOptions) -> Result<(), String> {
        let wanted = self.config();
        let decay_list = |factors: &[f64]| factors.iter().map(|&factor| crate::engine::decay_name(factor)).collect::<Vec<_>>().join(",");
        let same_decay = wanted.decay_factors.len() == state.decay_factors.len()
            && wanted.decay_factors.iter().zip(&state.decay_factors).all(|(a, b)| a.to_bits() == b.to_bits());
        let limit_text = |limit: Option<u64>| limit.map_or_else(|| "none".to_string(), |limit| limit.to_string());
        let policy_text = |policy: LimitPolicy| match policy {
            LimitPolicy::Reject => "reject",
            LimitPolicy::Evict => "evict",
        };
        let mismatch = if explicit.decay && !same_decay {
            Some(("--decay", decay_list(&wanted.decay_factors), decay_list(&state.decay_factors)))
        } else if explicit.limit && wanted.record_limit != state.record_limit {
            Some(("--limit", limit_text(wanted.record_limit), limit_text(state.record_limit)))
        } else if explicit.limit_policy && wanted.limit_policy != state.limit_policy {
            Some(("--limit-policy", policy_text(wanted.limit_policy).to_string(), policy_text(state.limit_policy).to_string()))
        } else if explicit.cleaning_interval && wanted.cleaning_interval != state.cleaning_interval {
            Some(("--cleaning-interval", wanted.cleaning_interval.to_string(), state.cleaning_interval.to_string()))
        } else {
            None
        };
        match mismatch {
            None => Ok(()),
            Some((option, given, saved)) => Err(format!(
                "{option} {given} differs from the state's setting {saved}; leave {option} out to continue with the state's settings"
            )),
        }
    }

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

/// Checks whether two paths name the same existing file (after resolving links and
/// `..`).
fn same_file(first: &std::path::Path, second: &std::path::Path) -> bool {
    // Device and inode numbers also catch hard links, which have different paths.
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(first), Ok(second)) = (std::fs::metadata(first), std::fs::metadata(second)) {
            return first.dev() == second.dev() && first.ino() == second.ino();
        }
    }
    match (std::fs::canonicalize(first), std::fs::canonicalize(second)) {
        (Ok(first), Ok(second)) => first == second,
        _ => false,
    }
}

/// Rejects an output path, given with `option`, that would overwrite the input.
/// `output_kind` names the output in the message ("feature table", "state").
fn check_not_input(input: &std::path::Path, output: &std::path::Path, output_kind: &str, option: &str) -> Result<(), String> {
    if same_file(input, output) {
        return Err(format!(
            "the {output_kind} path {} is the input file itself; choose another path with {option}",
            output.display()
        ));
    }
    Ok(())
}

/// Returns the meta table's path for a feature table's path: `NAME_meta.csv` beside it.
fn meta_path_for(features: &std::path::Path) -> PathBuf {
    let stem = features.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
    features.with_file_name(format!("{stem}_meta.csv"))
}

/// Runs the command line; returns the process exit status.
pub fn run() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    let result = match cli.command {
        Command::Extract(args) => {
            let explicit = ExplicitOptions::from_matches(matches.subcommand_matches("extract"));
            extract::run(&args, explicit)
        }
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
