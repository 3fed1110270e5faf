//! `afterimage extract CAPTURE`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{check_not_input, meta_path_for, EngineArgs, ExplicitOptions, FormatArg};
use crate::capture::CaptureReader;
use crate::engine::{Engine, UpdateError};
use crate::output::{FeatureWriter, MetaWriter, TableWriter};
use crate::parse::{parse_frame, skip_reason_name};
use crate::state;

#[derive(Args, Debug)]
pub struct ExtractArgs {
    /// The capture to read (pcap or pcapng).
    capture: PathBuf,

    /// Path of the feature table [default: the capture's path with the extension
    /// .csv or .npy]. The meta table goes beside it as NAME_meta.csv.
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,

    /// Feature table format.
    #[arg(long, value_enum, default_value_t = FormatArg::Csv)]
    format: FormatArg,

    /// Read at most this many packets (skipped ones included).
    #[arg(long, value_name = "N")]
    max_packets: Option<u64>,

    /// Print no progress bar and no summary line.
    #[arg(short, long)]
    quiet: bool,

    /// Continue from a state file saved by --state-out (the engine options must match
    /// the ones it was saved with).
    #[arg(long, value_name = "FILE")]
    state_in: Option<PathBuf>,

    /// Save the engine's state to this file at the end (atomically: a crash leaves the
    /// previous file whole). Also saved when the capture is damaged partway.
    #[arg(long, value_name = "FILE")]
    state_out: Option<PathBuf>,

    /// With --state-in: shift every timestamp of this capture by (its first timestamp
    /// − the state's last timestamp), so it continues where the state ended.
    #[arg(long, requires = "state_in")]
    rebase_time: bool,

    #[command(flatten)]
    engine: EngineArgs,
}

/// Counts for the closing summary.
#[derive(Default)]
struct Counts {
    read: u64,
    written: u64,
    skipped: BTreeMap<&'static str, u64>,
}

impl Counts {
    fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    fn summary(&self, elapsed: Duration) -> String {
        let seconds = elapsed.as_secs_f64();
        let rate = if seconds > 0.0 { self.read as f64 / seconds } else { 0.0 };
        let reasons: Vec<String> = self.skipped.iter().map(|(reason, count)| format!("{reason} {count}")).collect();
        let reasons = if reasons.is_empty() { String::new() } else { format!(" ({})", reasons.join(", ")) };
        format!(
            "read {}, skipped {}{}, wrote {} in {:.2} s ({:.0} packets/s)",
            plural(self.read, "packet"),
            self.skipped_total(),
            reasons,
            plural(self.written, "row"),
            seconds,
            rate
        )
    }
}

pub fn run(args: &ExtractArgs, explicit: ExplicitOptions) -> Result<ExitCode, String> {
    let config = args.engine.config();
    let mut engine = match &args.state_in {
        None => Engine::new(config).map_err(|error| error.to_string())?,
        Some(path) => {
            let engine = state::load_from_path(path, None).map_err(|error| format!("{}: {error}", path.display()))?;
            args.engine.check_against_state(engine.config(), explicit)?;
            engine
        }
    };
    // A state that cannot be saved at the end would lose the whole run's work.
    if let Some(path) = &args.state_out {
        let folder = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        if !folder.is_dir() {
            return Err(format!("cannot save the state to {}: the folder {} does not exist", path.display(), folder.display()));
        }
        check_not_input(&args.capture, path, "state", "--state-out")?;
    }
    let names = engine.config().feature_names();
    let rebase_to = if args.rebase_time { engine.last_timestamp() } else { None };
    let mut time_shift: Option<f64> = None;

    // Open the capture before creating any output, so that a capture that cannot be
    // read leaves no files behind.
    let capture_name = args.capture.display().to_string();
    let mut reader =
        CaptureReader::open(&args.capture).map_err(|error| format!("{capture_name}: {error}"))?;

    let features_path = args.output.clone().unwrap_or_else(|| args.capture.with_extension(args.format.extension()));
    let meta_path = meta_path_for(&features_path);
    check_not_input(&args.capture, &features_path, "feature table", "-o")?;
    check_not_input(&args.capture, &meta_path, "meta table", "-o")?;
    let create_error = |path: &Path, error: std::io::Error| format!("cannot create {}: {error}", path.display());
    let features = FeatureWriter::create(&features_path, args.format.feature_format(), &names)
        .map_err(|error| create_error(&features_path, error))?;
    let meta = MetaWriter::create(&meta_path).map_err(|error| create_error(&meta_path, error))?;
    let mut tables = TableWriter::new(features, meta, args.format.feature_format(), names.len());

    let progress = progress_bar(args.quiet, reader.total_bytes());
    let started = Instant::now();
    let mut counts = Counts::default();
    let mut row = vec![0.0; engine.feature_count()];
    let mut previous_timestamp = 0.0;
    let mut damage = None;
    let write_error = |error: std::io::Error| format!("cannot write the output: {error}");

    loop {
        if args.max_packets.is_some_and(|max| counts.read >= max) {
            break;
        }
        let record = match reader.next_record() {
            Ok(Some(record)) => record,
            Ok(None) => break,
            Err(error) => {
                damage = Some(error);
                break;
            }
        };
        counts.read += 1;
        // A pcapng Simple Packet Block has no timestamp: it gets its predecessor's.
        let mut timestamp = record.timestamp.map_or(previous_timestamp, |timestamp| timestamp.seconds());
        previous_timestamp = timestamp;
        if let Some(last) = rebase_to {
            timestamp -= *time_shift.get_or_insert(timestamp - last);
        }

        let vector = match parse_frame(record.link_type, record.data, timestamp) {
            Ok(vector) => vector,
            Err(reason) => {
                *counts.skipped.entry(skip_reason_name(reason)).or_default() += 1;
                continue;
            }
        };
        match engine.update(&vector, &mut row) {
            Ok(()) => {}
            Err(UpdateError::RecordLimit { .. }) => {
                *counts.skipped.entry("record_limit").or_default() += 1;
                continue;
            }
            Err(error) => return Err(format!("{capture_name}: packet {}: {error}", record.number)),
        }
        tables.write_row(&row, &vector).map_err(write_error)?;
        counts.written += 1;
        if counts.read % 8192 == 0 {
            progress.set_position(reader.bytes_read());
        }
    }

    tables.finish().map_err(write_error)?;
    progress.finish_and_clear();
    if let Some(path) = &args.state_out {
        state::save_to_path(&engine, path)
            .map_err(|error| format!("cannot save the state to {}: {error}; the previous file, if any, is unchanged", path.display()))?;
    }
    if !args.quiet {
        eprintln!("{}", counts.summary(started.elapsed()));
    }
    match damage {
        None => Ok(ExitCode::SUCCESS),
        Some(error) => {
            eprintln!(
                "afterimage: error: {capture_name}: {error}; the {} before it were processed",
                plural(counts.read, "packet")
            );
            Ok(ExitCode::from(1))
        }
    }
}

fn plural(count: u64, noun: &str) -> String {
    if count == 1 { format!("1 {noun}") } else { format!("{count} {noun}s") }
}

/// A progress bar over the capture's bytes, drawn only on a terminal.
fn progress_bar(quiet: bool, total: Option<u64>) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr_with_hz(4));
    let style = ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}
