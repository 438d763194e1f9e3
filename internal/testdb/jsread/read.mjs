// Reads a Parquet file with one of two readers that share no code with
// arrow-go or DuckDB, and prints its column names, then each row, as JSON
// arrays of canonical text (null for NULL):
//   integers, dates (days), times (microseconds), timestamps (in the
//   file's unit) and decimals (unscaled) as base-10 integers; text and JSON
//   as they are; binary as lower-case hex; UUIDs as 8-4-4-4-12 hex;
//   booleans as true/false.
//
//   node read.mjs hyparquet|polars FILE
import { readFileSync } from 'node:fs'

const [reader, path] = process.argv.slice(2)
const hex = (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
const canon = (v) => {
  if (v === null || v === undefined) return null
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (typeof v === 'string') return v
  if (v instanceof Uint8Array) return hex(v)
  throw new Error(`${reader}: a value of unexpected kind: ${Object.prototype.toString.call(v)}`)
}
const out = []

if (reader === 'hyparquet') {
  const { parquetMetadata, parquetRead } = await import('hyparquet')
  const { compressors } = await import('hyparquet-compressors')
  const buf = readFileSync(path)
  const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
  const metadata = parquetMetadata(file)
  // Decimals as their stored integers: hyparquet scales them into doubles.
  for (const el of metadata.schema) {
    if (el.converted_type === 'DECIMAL') {
      delete el.converted_type
      delete el.logical_type
    }
  }
  const names = metadata.schema.slice(1).map((el) => el.name)
  out.push(JSON.stringify(names))
  const raw = String
  await parquetRead({
    file, metadata, compressors, utf8: false, rowFormat: 'array',
    parsers: {
      timestampFromMilliseconds: raw, timestampFromMicroseconds: raw, timestampFromNanoseconds: raw,
      dateFromDays: raw,
      jsonFromBytes: (b) => b && new TextDecoder().decode(b),
    },
    onComplete: (rows) => { for (const r of rows) out.push(JSON.stringify(r.map(canon))) },
  })
} else if (reader === 'polars') {
  const { default: pl } = await import('nodejs-polars')
  const df = pl.readParquet(path)
  const cols = df.columns.map((name) => {
    let s = df.getColumn(name)
    const t = s.dtype.variant
    if (t === 'Decimal') {
      // "-12.30": the unscaled integer is the digits without the point.
      return s.cast(pl.Utf8).toArray().map((v) => v === null ? null : BigInt(v.replace('.', '')).toString())
    }
    if (t === 'Time') {
      // Polars keeps a time of day in nanoseconds.
      return s.cast(pl.Int64).cast(pl.Utf8).toArray().map((v) => v === null ? null : String(BigInt(v) / 1000n))
    }
    // Integers go through text: Polars hands 64-bit ones over as doubles.
    if (t === 'Datetime') s = s.cast(pl.Int64)
    if (t === 'Date') s = s.cast(pl.Int32)
    if (/^U?Int|^Date/.test(t)) s = s.cast(pl.Utf8)
    return s.toArray().map(canon)
  })
  out.push(JSON.stringify(df.columns))
  for (let i = 0; i < df.height; i++) out.push(JSON.stringify(cols.map((c) => c[i])))
} else {
  throw new Error(`reader ${reader}: want hyparquet or polars`)
}
process.stdout.write(out.join('\n') + '\n')
