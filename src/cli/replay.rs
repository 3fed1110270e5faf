//! `afterimage replay META.csv`: features from traffic vectors in a meta table.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;

use super::{check_not_input, EngineArgs, FormatArg};
use crate::engine::Engine;
use crate::output::{parse_meta_row, FeatureWriter, META_HEADER};

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// A meta CSV: ip_type,src_mac,dst_mac,src_ip,src_protocol,dst_ip,dst_protocol,time_stamp,packet_size.
    meta: PathBuf,

    /// Path of the feature table [default: META with `_meta` removed from its name, or
    /// with `_features` added].
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,

    /// Feature table format.
    #[arg(long, value_enum, default_value_t = FormatArg::Csv)]
    format: FormatArg,

    /// Print no summary line.
    #[arg(short, long)]
    quiet: bool,

    #[command(flatten)]
    engine: EngineArgs,
}

pub fn run(args: &ReplayArgs) -> Result<ExitCode, String> {
    let mut engine = Engine::new(args.engine.config()).map_err(|error| error.to_string())?;
    let meta_name = args.meta.display().to_string();
    let file = File::open(&args.meta).map_err(|error| format!("cannot open {meta_name}: {error}"))?;
    let mut lines = BufReader::new(file).lines();
    let header = lines.next().transpose().map_err(|error| format!("{meta_name}: {error}"))?.unwrap_or_default();
    if header != META_HEADER.join(",") {
        return Err(format!("{meta_name}: the first line is not the meta header '{}'", META_HEADER.join(",")));
    }

    let output = args.output.clone().unwrap_or_else(|| default_output(&args.meta, args.format));
    check_not_input(&args.meta, &output, "feature table", "-o")?;
    let mut features = FeatureWriter::create(&output, args.format.feature_format(), &engine.config().feature_names())
        .map_err(|error| format!("cannot create {}: {error}", output.display()))?;
    let mut row = vec![0.0; engine.feature_count()];
    let started = Instant::now();
    let mut count = 0u64;
    for (index, line) in lines.enumerate() {
        let line_number = index + 2;
        let line = line.map_err(|error| format!("{meta_name}: line {line_number}: {error}"))?;
        let vector = parse_meta_row(&line).map_err(|problem| format!("{meta_name}: line {line_number}: {problem}"))?;
        engine.update(&vector, &mut row).map_err(|error| format!("{meta_name}: line {line_number}: {error}"))?;
        features.write_row(&row).map_err(|error| format!("cannot write {}: {error}", output.display()))?;
        count += 1;
    }
    features.finish().map_err(|error| format!("cannot write {}: {error}", output.display()))?;
    if !args.quiet {
        let seconds = started.elapsed().as_secs_f64();
        eprintln!("replayed {count} vectors in {seconds:.2} s ({:.0} vectors/s)", count as f64 / seconds.max(1e-9));
    }
    Ok(ExitCode::SUCCESS)
}

fn default_output(meta: &std::path::Path, format: FormatArg) -> PathBuf {
    let stem = meta.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
    let name = match stem.strip_suffix("_meta") {
        Some(base) if !base.is_empty() => base.to_string(),
        _ => format!("{stem}_features"),
    };
    meta.with_file_name(format!("{name}.{}", format.extension()))
}

