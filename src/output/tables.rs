//! The feature and meta tables of one run, with CSV rows formatted on worker threads.
//!
//! Turning 100 floats into shortest decimal text costs about three times as much as
//! computing them, so text formats hand batches of rows to two workers and write
//! their text back in batch order; `.npy` rows are written in place.

use std::io;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::{self, JoinHandle};

use super::{format_feature_row, format_meta_row, FeatureFormat, FeatureWriter, MetaWriter};
use crate::vector::TrafficVector;

/// Rows per batch handed to a worker.
const BATCH_ROWS: usize = 1024;
/// Formatting threads for text formats.
const WORKERS: usize = 2;

/// Rows waiting to be formatted.
struct Batch {
    features: Vec<f64>,
    vectors: Vec<TrafficVector>,
}

/// A formatted batch.
struct Formatted {
    features: Vec<u8>,
    meta: String,
    rows: u64,
}

struct Worker {
    batches: SyncSender<Batch>,
    results: Receiver<Formatted>,
    thread: JoinHandle<()>,
}

/// Writes feature and meta rows in the order they are given.
pub struct TableWriter {
    features: FeatureWriter,
    meta: MetaWriter,
    columns: usize,
    batch: Batch,
    workers: Vec<Worker>,
    /// Batches handed out and not yet written, and the worker of the oldest one.
    in_flight: usize,
    next_worker: usize,
    oldest_worker: usize,
}

impl TableWriter {
    /// Takes two freshly created writers; `columns` is the number of features per row.
    pub fn new(features: FeatureWriter, meta: MetaWriter, format: FeatureFormat, columns: usize) -> TableWriter {
        let workers = if format == FeatureFormat::Npy { Vec::new() } else { (0..WORKERS).map(|_| spawn_worker(format, columns)).collect() };
        TableWriter {
            features,
            meta,
            columns,
            batch: Batch { features: Vec::with_capacity(BATCH_ROWS * columns), vectors: Vec::with_capacity(BATCH_ROWS) },
            workers,
            in_flight: 0,
            next_worker: 0,
            oldest_worker: 0,
        }
    }

    /// Appends one packet's features and traffic vector.
    pub fn write_row(&mut self, features: &[f64], vector: &TrafficVector) -> io::Result<()> {
        if self.workers.is_empty() {
            self.features.write_row(features)?;
            return self.meta.write_row(vector);
        }
        self.batch.features.extend_from_slice(&features[..self.columns]);
        self.batch.vectors.push(vector.clone());
        if self.batch.vectors.len() == BATCH_ROWS {
            self.dispatch()?;
        }
        Ok(())
    }

    /// Hands the current batch to the next worker, first writing the oldest batch in
    /// flight when every worker is busy.
    fn dispatch(&mut self) -> io::Result<()> {
        if self.in_flight == self.workers.len() {
            self.write_oldest()?;
        }
        let batch = std::mem::replace(
            &mut self.batch,
            Batch { features: Vec::with_capacity(BATCH_ROWS * self.columns), vectors: Vec::with_capacity(BATCH_ROWS) },
        );
        self.workers[self.next_worker].batches.send(batch).map_err(|_| worker_stopped())?;
        self.next_worker = (self.next_worker + 1) % self.workers.len();
        self.in_flight += 1;
        Ok(())
    }

    fn write_oldest(&mut self) -> io::Result<()> {
        let formatted = self.workers[self.oldest_worker].results.recv().map_err(|_| worker_stopped())?;
        self.oldest_worker = (self.oldest_worker + 1) % self.workers.len();
        self.in_flight -= 1;
        self.features.write_formatted(&formatted.features, formatted.rows)?;
        self.meta.write_formatted(&formatted.meta)
    }

    /// Writes every remaining row, flushes both files and returns the rows written.
    pub fn finish(mut self) -> io::Result<u64> {
        if !self.workers.is_empty() {
            if !self.batch.vectors.is_empty() {
                self.dispatch()?;
            }
            while self.in_flight > 0 {
                self.write_oldest()?;
            }
            for worker in self.workers.drain(..) {
                drop(worker.batches);
                let _ = worker.thread.join();
            }
        }
        self.meta.finish()?;
        self.features.finish()
    }
}

fn spawn_worker(format: FeatureFormat, columns: usize) -> Worker {
    let (batches, batch_receiver) = mpsc::sync_channel::<Batch>(1);
    let (result_sender, results) = mpsc::sync_channel::<Formatted>(1);
    let thread = thread::spawn(move || {
        for batch in batch_receiver {
            let mut features = Vec::with_capacity(batch.vectors.len() * columns * 20);
            let mut meta = String::with_capacity(batch.vectors.len() * 96);
            for (row, vector) in batch.features.chunks_exact(columns).zip(&batch.vectors) {
                format_feature_row(format, row, &mut features);
                format_meta_row(&mut meta, vector);
            }
            let rows = batch.vectors.len() as u64;
            if result_sender.send(Formatted { features, meta, rows }).is_err() {
                return;
            }
        }
    });
    Worker { batches, results, thread }
}

fn worker_stopped() -> io::Error {
    io::Error::other("a formatting thread stopped unexpectedly")
}
