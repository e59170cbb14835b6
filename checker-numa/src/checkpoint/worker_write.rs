//! Writing one worker's checkpoint file: its visited table, frontier, counters and a
//! level interrupted part-way, checksummed.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use xxhash_rust::xxh3::Xxh3;

use crate::frontier::Frontier;
use crate::table::FingerprintSet;
use crate::worker::PartialLevel;

use super::{
    file_checksum, io_err, worker_file_name, CheckpointError, WorkerCounters, WorkerFile,
    FORMAT_VERSION, WORKER_MAGIC,
};

/// Writes worker `worker`'s file into checkpoint directory `dir`.
pub fn write_worker(
    dir: &Path,
    worker: usize,
    table: &FingerprintSet,
    frontier: &Frontier,
    counters: WorkerCounters,
    log_entries: u64,
    partial: Option<&PartialLevel>,
) -> Result<WorkerFile, CheckpointError> {
    let name = worker_file_name(worker);
    let path = dir.join(&name);
    let tmp = path.with_extension("tmp");
    let file = File::create(&tmp).map_err(io_err(&tmp))?;
    let mut w = HashingWriter {
        inner: BufWriter::with_capacity(1 << 18, file),
        hash: Xxh3::new(),
        bytes: 0,
    };
    let write = |w: &mut HashingWriter<BufWriter<File>>| -> io::Result<()> {
        w.put(WORKER_MAGIC)?;
        w.put_u64(u64::from(FORMAT_VERSION))?;
        w.put_u64(worker as u64)?;
        w.put_u64(counters.generated)?;
        w.put_u64(counters.expanded)?;
        w.put_u64(log_entries)?;
        w.put_u64(table.len() as u64)?;
        for fp in table.iter() {
            w.put_u64(fp)?;
        }
        w.put_u64(frontier.first_index())?;
        write_frontier(w, frontier)?;
        match partial {
            None => w.put_u64(0)?,
            Some(p) => {
                w.put_u64(1)?;
                w.put_u64(p.expanded)?;
                let r = &p.report;
                w.put_u64(r.expanded)?;
                w.put_u64(r.generated)?;
                w.put_u64(r.deadlocks)?;
                w.put_u64(r.errors.deadlock.unwrap_or(0))?;
                let (fp, index) = r.errors.invariant.unwrap_or((0, 0));
                w.put_u64(fp)?;
                w.put_u64(u64::from(index))?;
                w.put_u64(p.log.len() as u64)?;
                for e in &p.log {
                    w.put_u64(e.entry.fp)?;
                    w.put_u64(e.entry.parent.0)?;
                    w.put_u64(e.parent_fp)?;
                }
                write_frontier(w, &p.next)?;
            }
        }
        let checksum = w.hash.digest();
        w.inner.write_all(&checksum.to_le_bytes())?;
        w.bytes += 8;
        w.inner.flush()?;
        w.inner.get_ref().sync_all()
    };
    write(&mut w).map_err(io_err(&tmp))?;
    fs::rename(&tmp, &path).map_err(io_err(&path))?;
    Ok(WorkerFile {
        file: name,
        bytes: w.bytes,
        checksum: format!("{:016x}", file_checksum(&path)?),
        log_entries,
    })
}

/// Writes a frontier: its length, then `(count, layout, bytes, states)` per chunk,
/// then an end marker.
fn write_frontier<W: Write>(w: &mut HashingWriter<W>, frontier: &Frontier) -> io::Result<()> {
    w.put_u64(frontier.len())?;
    frontier.for_each_chunk(|chunk| {
        w.put_u64(chunk.len() as u64)?;
        w.put_u64(chunk.layout_code())?;
        w.put_u64(chunk.raw_bytes().len() as u64)?;
        w.put(chunk.raw_bytes())
    })?;
    w.put_u64(u64::MAX)
}

/// A writer that checksums everything it writes.
struct HashingWriter<W: Write> {
    inner: W,
    hash: Xxh3,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hash.update(bytes);
        self.bytes += bytes.len() as u64;
        self.inner.write_all(bytes)
    }
    fn put_u64(&mut self, v: u64) -> io::Result<()> {
        self.put(&v.to_le_bytes())
    }
}
