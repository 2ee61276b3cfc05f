//! A PNG chart of the RTT distribution, one panel per address and
//! transport: a histogram on a logarithmic axis (0.01 ms to 10 s), the
//! SLR as a red line, p50 and p95 as marks.
//!
//! Owns its pixels: drawn into an RGB buffer with a built-in 3x5 pixel
//! font and encoded with `png`, so it needs no fonts or system libraries.

use super::stats::{Summary, percentile};
use std::path::{Path, PathBuf};

/// Why the chart could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The PNG file could not be created.
    #[error("{path}: {error}")]
    Write {
        /// The chart's path.
        path: PathBuf,
        /// The error creating it.
        #[source]
        error: std::io::Error,
    },
    /// Encoding or writing the PNG data failed.
    #[error("{path}: PNG encoding: {error}")]
    Encode {
        /// The chart's path.
        path: PathBuf,
        /// The encoder's error.
        #[source]
        error: png::EncodingError,
    },
}

const W: usize = 960;
const PANEL_H: usize = 150;
const LEFT: usize = 40;
const RIGHT: usize = 20;
const TOP: usize = 26;
const BOTTOM: usize = 30;
/// Axis range, log10 of milliseconds.
const LO: f64 = -2.0;
const HI: f64 = 4.0;
const BINS: usize = 120;

type Rgb = [u8; 3];
const BLACK: Rgb = [0, 0, 0];
const GREY: Rgb = [200, 200, 200];
const RED: Rgb = [220, 30, 30];
const GREEN: Rgb = [20, 150, 40];
const UDP: Rgb = [40, 90, 200];
const TCP: Rgb = [230, 130, 20];

struct Canvas {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Canvas {
    fn new(w: usize, h: usize) -> Canvas {
        Canvas {
            w,
            h,
            px: vec![255; w * h * 3],
        }
    }

    fn set(&mut self, x: usize, y: usize, c: Rgb) {
        if x < self.w && y < self.h {
            let i = (y * self.w + x) * 3;
            self.px[i..i + 3].copy_from_slice(&c);
        }
    }

    fn rect(&mut self, x0: usize, y0: usize, x1: usize, y1: usize, c: Rgb) {
        for y in y0..y1 {
            for x in x0..x1 {
                self.set(x, y, c);
            }
        }
    }

    /// Text in the 3x5 font, scaled by 2, upper-cased.
    fn text(&mut self, mut x: usize, y: usize, s: &str, c: Rgb) {
        for ch in s.chars() {
            if let Some(rows) = glyph(ch.to_ascii_uppercase()) {
                for (ry, row) in rows.iter().enumerate() {
                    for rx in 0..3 {
                        if row & (0b100 >> rx) != 0 {
                            self.rect(x + rx * 2, y + ry * 2, x + rx * 2 + 2, y + ry * 2 + 2, c);
                        }
                    }
                }
            }
            x += 8;
        }
    }
}

/// The 3x5 font: five rows of three bits.
fn glyph(c: char) -> Option<[u8; 5]> {
    Some(match c {
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 7, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 1, 1, 1],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        '.' => [0, 0, 0, 0, 2],
        ':' => [0, 2, 0, 2, 0],
        '/' => [1, 1, 2, 4, 4],
        '-' => [0, 0, 7, 0, 0],
        '%' => [5, 1, 2, 4, 5],
        '(' => [2, 4, 4, 4, 2],
        ')' => [2, 1, 1, 1, 2],
        '=' => [0, 7, 0, 7, 0],
        '<' => [1, 2, 4, 2, 1],
        '[' => [6, 4, 4, 4, 6],
        ']' => [3, 1, 1, 1, 3],
        'A' => [2, 5, 7, 5, 5],
        'B' => [6, 5, 6, 5, 6],
        'C' => [3, 4, 4, 4, 3],
        'D' => [6, 5, 5, 5, 6],
        'E' => [7, 4, 6, 4, 7],
        'F' => [7, 4, 6, 4, 4],
        'G' => [3, 4, 5, 5, 3],
        'H' => [5, 5, 7, 5, 5],
        'I' => [7, 2, 2, 2, 7],
        'J' => [1, 1, 1, 5, 2],
        'K' => [5, 5, 6, 5, 5],
        'L' => [4, 4, 4, 4, 7],
        'M' => [5, 7, 7, 5, 5],
        'N' => [6, 5, 5, 5, 5],
        'O' => [2, 5, 5, 5, 2],
        'P' => [6, 5, 6, 4, 4],
        'Q' => [2, 5, 5, 6, 3],
        'R' => [6, 5, 6, 5, 5],
        'S' => [3, 4, 2, 1, 6],
        'T' => [7, 2, 2, 2, 2],
        'U' => [5, 5, 5, 5, 7],
        'V' => [5, 5, 5, 5, 2],
        'W' => [5, 5, 7, 7, 5],
        'X' => [5, 5, 2, 5, 5],
        'Y' => [5, 5, 2, 2, 2],
        'Z' => [7, 1, 2, 4, 7],
        _ => return None,
    })
}

fn x_of(ms: f64) -> usize {
    let l = ms.max(1e-9).log10().clamp(LO, HI);
    LEFT + ((l - LO) / (HI - LO) * (W - LEFT - RIGHT - 1) as f64) as usize
}

/// Draw the chart of `s` into `path`.
pub fn draw(path: &Path, s: &Summary) -> Result<(), ChartError> {
    let lines = s.lines();
    let panels = lines.len().max(1);
    let h = panels * PANEL_H + BOTTOM;
    let mut c = Canvas::new(W, h);
    for (i, ((_, t), series)) in s.series.iter().enumerate() {
        let l = &lines[i];
        let y0 = i * PANEL_H;
        let (top, base) = (y0 + TOP, y0 + PANEL_H - 8);
        let color = if *t == "tcp" { TCP } else { UDP };
        let mut v = series.rtts_ms.clone();
        v.sort_by(f64::total_cmp);
        let label = format!(
            "{} {} N={} UNANSWERED={} P50={}MS P95={}MS",
            l.server,
            t,
            l.tests,
            l.unanswered,
            percentile(&v, 50.0)
                .map(|x| format!("{x:.3}"))
                .unwrap_or("-".into()),
            percentile(&v, 95.0)
                .map(|x| format!("{x:.3}"))
                .unwrap_or("-".into()),
        );
        c.text(LEFT, y0 + 6, &label, BLACK);
        // Decade grid.
        let mut d = LO;
        while d <= HI {
            let x = x_of(10f64.powf(d));
            c.rect(x, top, x + 1, base, GREY);
            d += 1.0;
        }
        c.rect(LEFT, base, W - RIGHT, base + 1, BLACK);
        // Histogram.
        let mut bins = [0u64; BINS];
        for &ms in &v {
            let l = ms.max(1e-9).log10().clamp(LO, HI - 1e-9);
            bins[((l - LO) / (HI - LO) * BINS as f64) as usize] += 1;
        }
        let max = bins.iter().copied().max().unwrap_or(0).max(1) as f64;
        let bw = (W - LEFT - RIGHT) as f64 / BINS as f64;
        for (b, &n) in bins.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let x0 = LEFT + (b as f64 * bw) as usize;
            let x1 = LEFT + ((b + 1) as f64 * bw) as usize;
            let hgt = ((n as f64 / max) * (base - top) as f64).max(1.0) as usize;
            c.rect(x0, base - hgt, x1.max(x0 + 1), base, color);
        }
        let slr = x_of(l.rtt_slr_ms as f64);
        c.rect(slr, top, slr + 2, base, RED);
        for (p, mark) in [(50.0, GREEN), (95.0, BLACK)] {
            if let Some(x) = percentile(&v, p) {
                let x = x_of(x);
                c.rect(x, top - 4, x + 1, base, mark);
            }
        }
    }
    // Axis labels under the last panel.
    let y = panels * PANEL_H + 6;
    for (d, t) in [
        (-2, "0.01"),
        (-1, "0.1"),
        (0, "1"),
        (1, "10"),
        (2, "100"),
        (3, "1000"),
        (4, "10000MS"),
    ] {
        let x = x_of(10f64.powi(d));
        c.text(x.saturating_sub(4).min(W - 8 * t.len()), y, t, BLACK);
    }
    let f = std::fs::File::create(path).map_err(|error| ChartError::Write {
        path: path.to_path_buf(),
        error,
    })?;
    let mut e = png::Encoder::new(std::io::BufWriter::new(f), W as u32, h as u32);
    e.set_color(png::ColorType::Rgb);
    e.set_depth(png::BitDepth::Eight);
    let enc = |error| ChartError::Encode {
        path: path.to_path_buf(),
        error,
    };
    let mut w = e.write_header().map_err(enc)?;
    w.write_image_data(&c.px).map_err(enc)?;
    w.finish().map_err(enc)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_character_has_a_glyph() {
        for ch in "0123456789.:/-%()=<[]ABCDEFGHIJKLMNOPQRSTUVWXYZ".chars() {
            assert!(glyph(ch).is_some(), "{ch}");
        }
        assert!(x_of(0.01) < x_of(1.0) && x_of(1.0) < x_of(10_000.0));
    }
}
