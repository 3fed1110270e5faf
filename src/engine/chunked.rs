//! Arrays that grow in fixed-size chunks. Growing never moves existing elements, so
//! no update pays for copying the whole store (a doubling `Vec` of a million records
//! stalls for milliseconds), and at most one chunk of capacity is unused.

use std::collections::TryReserveError;
use std::ops::{Index, IndexMut};

/// Elements per chunk.
const CHUNK: usize = 4096;

/// Bytes between the writes that make the kernel map a reserved chunk's pages: 4 KiB,
/// the smallest page size on x86-64 and the usual one on ARM64 Linux.
const PAGE: usize = 4096;

/// Allocates a chunk of `capacity` elements and writes one byte in each of its pages, so
/// that the page faults of first use happen now rather than in a later update.
fn touched_chunk<T>(capacity: usize) -> Result<Vec<T>, TryReserveError> {
    let mut chunk: Vec<T> = Vec::new();
    chunk.try_reserve_exact(capacity)?;
    let base = chunk.as_mut_ptr().cast::<u8>();
    for offset in (0..capacity * std::mem::size_of::<T>()).step_by(PAGE) {
        // SAFETY: `offset` is inside the allocation just reserved, and a byte written to
        // unused capacity is never read as a `T`: elements are written before use.
        unsafe { base.add(offset).write_volatile(0) };
    }
    Ok(chunk)
}

/// A growable array of `T` in chunks of [`CHUNK`] elements.
#[derive(Clone, Debug)]
pub struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked { chunks: Vec::new(), len: 0 }
    }
}

impl<T> Chunked<T> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Elements the allocated chunks can hold.
    pub fn capacity(&self) -> usize {
        self.chunks.len() * CHUNK
    }

    /// Appends `value` and returns its index.
    pub fn push(&mut self, value: T) -> usize {
        if self.len == self.capacity() {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        self.chunks[self.len / CHUNK].push(value);
        self.len += 1;
        self.len - 1
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.chunks.iter().flatten()
    }

    /// Allocates and maps the chunks for `count` elements in all.
    pub fn reserve_mapped(&mut self, count: usize) -> Result<(), TryReserveError> {
        while self.capacity() < count {
            self.chunks.try_reserve(1)?;
            self.chunks.push(touched_chunk(CHUNK)?);
        }
        Ok(())
    }
}

impl<T> Index<usize> for Chunked<T> {
    type Output = T;

    #[inline]
    fn index(&self, index: usize) -> &T {
        &self.chunks[index / CHUNK][index % CHUNK]
    }
}

impl<T> IndexMut<usize> for Chunked<T> {
    #[inline]
    fn index_mut(&mut self, index: usize) -> &mut T {
        &mut self.chunks[index / CHUNK][index % CHUNK]
    }
}

/// Rows of `stride` floats, [`CHUNK`] rows per chunk, so a row never spans two chunks.
#[derive(Clone, Debug)]
pub struct Rows {
    stride: usize,
    chunks: Vec<Vec<f64>>,
    len: usize,
}

impl Rows {
    pub fn new(stride: usize) -> Rows {
        Rows { stride, chunks: Vec::new(), len: 0 }
    }

    /// Rows the allocated chunks can hold.
    pub fn capacity(&self) -> usize {
        self.chunks.len() * CHUNK
    }

    /// Allocates and maps the chunks for `count` rows in all.
    pub fn reserve_mapped(&mut self, count: usize) -> Result<(), TryReserveError> {
        while self.capacity() < count {
            self.chunks.try_reserve(1)?;
            self.chunks.push(touched_chunk(CHUNK * self.stride)?);
        }
        Ok(())
    }

    /// Appends a row of zeros and returns its index. A new chunk is only reserved,
    /// and its rows are written as they are added, so no update zeroes a whole chunk.
    pub fn push_zeros(&mut self) -> usize {
        if self.len == self.capacity() {
            self.chunks.push(Vec::with_capacity(CHUNK * self.stride));
        }
        let chunk = &mut self.chunks[self.len / CHUNK];
        chunk.resize(chunk.len() + self.stride, 0.0);
        self.len += 1;
        self.len - 1
    }

    #[inline]
    pub fn row(&self, index: usize) -> &[f64] {
        let start = (index % CHUNK) * self.stride;
        &self.chunks[index / CHUNK][start..start + self.stride]
    }

    #[inline]
    pub fn row_mut(&mut self, index: usize) -> &mut [f64] {
        let start = (index % CHUNK) * self.stride;
        &mut self.chunks[index / CHUNK][start..start + self.stride]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_keeps_elements_across_chunks() {
        let mut array = Chunked::default();
        for i in 0..(3 * CHUNK + 5) {
            assert_eq!(array.push(i), i);
        }
        assert_eq!(array[0], 0);
        assert_eq!(array[CHUNK], CHUNK);
        assert_eq!(array[3 * CHUNK + 4], 3 * CHUNK + 4);
        assert_eq!(array.capacity(), 4 * CHUNK);
        assert_eq!(array.iter().count(), 3 * CHUNK + 5);
    }

    #[test]
    fn rows_stay_separate() {
        let mut rows = Rows::new(3);
        for i in 0..(CHUNK + 2) {
            let index = rows.push_zeros();
            rows.row_mut(index).fill(i as f64);
        }
        assert_eq!(rows.row(CHUNK - 1), &[(CHUNK - 1) as f64; 3]);
        assert_eq!(rows.row(CHUNK + 1), &[(CHUNK + 1) as f64; 3]);
    }
}
