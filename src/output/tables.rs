//! The feature and meta tables of one run, written off the packet thread.
//!
//! Turning 100 floats into shortest decimal text costs about three times as much as
//! computing them, so text formats hand batches of rows to two workers and write
//! their text back in batch order. `.npy` rows need no formatting, so one thread takes
//! each batch, formats its meta rows and writes both files, leaving the packet thread
//! only reading, parsing and the engine.

use std::io;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::{self, JoinHandle};

use super::{format_feature_row, format_meta_row, FeatureFormat, FeatureWriter, MetaWriter};
use crate::vector::TrafficVector;

/// Rows per batch handed to another thread.
const BATCH_ROWS: usize = 1024;
/// Formatting threads for text formats.
const WORKERS: usize = 2;
/// Batches the `.npy` writing thread may have queued before the packet thread waits.
const QUEUED_BATCHES: usize = 4;

/// Rows waiting to be formatted or written.
struct Batch {
    features: Vec<f64>,
    vectors: Vec<TrafficVector>,
}

impl Batch {
    fn new(columns: usize) -> Batch {
        Batch { features: Vec::with_capacity(BATCH_ROWS * columns), vectors: Vec::with_capacity(BATCH_ROWS) }
    }

    fn clear(&mut self) {
        self.features.clear();
        self.vectors.clear();
    }
}

/// A formatted batch, with the emptied batch it came from for reuse.
struct Formatted {
    features: Vec<u8>,
    meta: String,
    rows: u64,
    emptied: Batch,
}

struct Worker {
    batches: SyncSender<Batch>,
    results: Receiver<Formatted>,
    thread: JoinHandle<()>,
}

/// Text formats: workers format, this thread writes in order.
struct Formatting {
    features: FeatureWriter,
    meta: MetaWriter,
    workers: Vec<Worker>,
    /// Batches handed out and not yet written, and the workers of the next and oldest.
    in_flight: usize,
    next_worker: usize,
    oldest_worker: usize,
}

/// `.npy`: one thread owns both files and sends emptied batches back.
struct Writing {
    batches: SyncSender<Batch>,
    emptied: Receiver<Batch>,
    /// Taken when the thread is joined.
    thread: Option<JoinHandle<io::Result<u64>>>,
}

/// Waits for the `.npy` writing thread to end and returns the rows it wrote or the
/// error that stopped it.
fn join_writer(thread: &mut Option<JoinHandle<io::Result<u64>>>) -> io::Result<u64> {
    match thread.take() {
        Some(thread) => thread.join().map_err(|_| io::Error::other("the output thread panicked"))?,
        None => Err(io::Error::other("the output thread has already ended")),
    }
}

enum Mode {
    Formatting(Formatting),
    Writing(Writing),
}

/// Writes feature and meta rows in the order they are given.
pub struct TableWriter {
    columns: usize,
    batch: Batch,
    /// Emptied batches: reusing their memory spares the page faults of a fresh
    /// allocation of about a mebibyte per batch.
    spare: Vec<Batch>,
    mode: Mode,
}

impl TableWriter {
    /// Takes two freshly created writers; `columns` is the number of features per row.
    pub fn new(features: FeatureWriter, meta: MetaWriter, format: FeatureFormat, columns: usize) -> TableWriter {
        let mode = if format == FeatureFormat::Npy {
            Mode::Writing(spawn_writer(features, meta, columns))
        } else {
            let workers = (0..WORKERS).map(|_| spawn_worker(format, columns)).collect();
            Mode::Formatting(Formatting { features, meta, workers, in_flight: 0, next_worker: 0, oldest_worker: 0 })
        };
        TableWriter { columns, batch: Batch::new(columns), spare: Vec::new(), mode }
    }

    /// Appends one packet's features and traffic vector.
    pub fn write_row(&mut self, features: &[f64], vector: &TrafficVector) -> io::Result<()> {
        self.batch.features.extend_from_slice(&features[..self.columns]);
        self.batch.vectors.push(vector.clone());
        if self.batch.vectors.len() == BATCH_ROWS {
            self.dispatch()?;
        }
        Ok(())
    }

    /// Hands the current batch on: to the writing thread, or to the next formatting
    /// worker, first writing the oldest batch in flight when every worker is busy.
    fn dispatch(&mut self) -> io::Result<()> {
        let next = match self.spare.pop() {
            Some(batch) => batch,
            None => Batch::new(self.columns),
        };
        let batch = std::mem::replace(&mut self.batch, next);
        match &mut self.mode {
            Mode::Writing(writing) => {
                self.spare.extend(writing.emptied.try_iter());
                match writing.batches.send(batch) {
                    Ok(()) => Ok(()),
                    // The thread stops early only on a write error, and that error is the one to report.
                    Err(_) => Err(join_writer(&mut writing.thread).err().unwrap_or_else(|| io::Error::other("the output thread stopped early"))),
                }
            }
            Mode::Formatting(formatting) => {
                if formatting.in_flight == formatting.workers.len() {
                    self.spare.push(formatting.write_oldest()?);
                }
                formatting.workers[formatting.next_worker].batches.send(batch).map_err(|_| worker_stopped())?;
                formatting.next_worker = (formatting.next_worker + 1) % formatting.workers.len();
                formatting.in_flight += 1;
                Ok(())
            }
        }
    }

    /// Writes every remaining row, flushes both files and returns the rows written.
    pub fn finish(mut self) -> io::Result<u64> {
        if !self.batch.vectors.is_empty() {
            self.dispatch()?;
        }
        match self.mode {
            Mode::Writing(writing) => {
                let Writing { batches, mut thread, .. } = writing;
                // Closing the queue ends the thread's loop.
                drop(batches);
                join_writer(&mut thread)
            }
            Mode::Formatting(mut formatting) => {
                while formatting.in_flight > 0 {
                    formatting.write_oldest()?;
                }
                for worker in formatting.workers.drain(..) {
                    drop(worker.batches);
                    let _ = worker.thread.join();
                }
                formatting.meta.finish()?;
                formatting.features.finish()
            }
        }
    }
}

impl Formatting {
    /// Writes the oldest batch in flight and returns it emptied.
    fn write_oldest(&mut self) -> io::Result<Batch> {
        let formatted = self.workers[self.oldest_worker].results.recv().map_err(|_| worker_stopped())?;
        self.oldest_worker = (self.oldest_worker + 1) % self.workers.len();
        self.in_flight -= 1;
        self.features.write_formatted(&formatted.features, formatted.rows)?;
        self.meta.write_formatted(&formatted.meta)?;
        Ok(formatted.emptied)
    }
}


fn spawn_worker(format: FeatureFormat, columns: usize) -> Worker {
    let (batches, batch_receiver) = mpsc::sync_channel::<Batch>(1);
    let (result_sender, results) = mpsc::sync_channel::<Formatted>(1);
    let thread = thread::spawn(move || {
        for mut batch in batch_receiver {
            let mut features = Vec::with_capacity(batch.vectors.len() * columns * 20);
            let mut meta = String::with_capacity(batch.vectors.len() * 96);
            for (row, vector) in batch.features.chunks_exact(columns).zip(&batch.vectors) {
                format_feature_row(format, row, &mut features);
                format_meta_row(&mut meta, vector);
            }
            let rows = batch.vectors.len() as u64;
            batch.clear();
            if result_sender.send(Formatted { features, meta, rows, emptied: batch }).is_err() {
                return;
            }
        }
    });
    Worker { batches, results, thread }
}

/// Starts the thread that writes `.npy` batches. The thread returns the rows written,
/// or the first write error, after which it stops taking batches.
fn spawn_writer(mut features: FeatureWriter, mut meta: MetaWriter, columns: usize) -> Writing {
    let (batches, batch_receiver) = mpsc::sync_channel::<Batch>(QUEUED_BATCHES);
    // Room for every batch in circulation. A batch that does not fit is dropped, and the
    // packet thread then allocates a new one.
    let (emptied_sender, emptied) = mpsc::sync_channel::<Batch>(QUEUED_BATCHES + 2);
    let thread = thread::spawn(move || {
        for mut batch in batch_receiver {
            for (row, vector) in batch.features.chunks_exact(columns).zip(&batch.vectors) {
                features.write_row(row)?;
                meta.write_row(vector)?;
            }
            batch.clear();
            // A full queue, or a packet thread that has finished, drops the batch.
            let _ = emptied_sender.try_send(batch);
        }
        meta.finish()?;
        features.finish()
    });
    Writing { batches, emptied, thread: Some(thread) }
}

fn worker_stopped() -> io::Error {
    io::Error::other("a formatting thread stopped unexpectedly")
}
