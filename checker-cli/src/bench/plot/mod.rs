//! The two pictures of a sweep, drawn with plotters' SVG backend. Text is written as
//! SVG `<text>` elements that the viewer renders, so no font is needed to draw them.

mod scaling;
mod workers;

pub use scaling::draw_scaling;
pub use workers::draw_workers;

/// What plotting functions return: plotters' errors are boxed, the caller names the file.
pub type PlotResult = Result<(), Box<dyn std::error::Error>>;
