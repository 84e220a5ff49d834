//! A small writer of SVG text: elements, attributes and escaping, nothing more.

use std::fmt::{Display, Write};

/// A coordinate or length, written with one decimal.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Px(pub f64);

impl Display for Px {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.1}", self.0)
    }
}

/// An element's attributes: names and values (escaped when written).
pub type Attrs<'a> = &'a [(&'a str, &'a dyn Display)];

/// An SVG document being written.
#[derive(Debug)]
pub struct Svg {
    out: String,
    open: Vec<&'static str>,
}

impl Svg {
    /// A document `width` by `height` pixels.
    pub fn new(width: f64, height: f64) -> Self {
        let mut svg = Svg { out: String::new(), open: Vec::new() };
        let view = format!("0 0 {} {}", Px(width), Px(height));
        svg.open(
            "svg",
            &[
                ("xmlns", &"http://www.w3.org/2000/svg"),
                ("width", &Px(width)),
                ("height", &Px(height)),
                ("viewBox", &view),
                ("font-family", &"Helvetica, Arial, sans-serif"),
            ],
        );
        svg
    }

    /// Opens `<tag ...>`; [`close`](Self::close) ends it.
    pub fn open(&mut self, tag: &'static str, attrs: Attrs) {
        self.start(tag, attrs);
        self.out.push_str(">\n");
        self.open.push(tag);
    }

    /// Closes the element opened last.
    pub fn close(&mut self) {
        if let Some(tag) = self.open.pop() {
            let _ = writeln!(self.out, "</{tag}>");
        }
    }

    /// Writes `<tag ... />`.
    pub fn leaf(&mut self, tag: &str, attrs: Attrs) {
        self.start(tag, attrs);
        self.out.push_str("/>\n");
    }

    /// Writes `<tag ...><title>tip</title></tag>`: an element a browser names on hover.
    pub fn leaf_with_tip(&mut self, tag: &str, attrs: Attrs, tip: &str) {
        self.start(tag, attrs);
        let _ = writeln!(self.out, "><title>{}</title></{tag}>", Escaped(tip));
    }

    /// Writes `<text ...>content</text>`.
    pub fn text(&mut self, attrs: Attrs, content: &str) {
        self.start("text", attrs);
        let _ = writeln!(self.out, ">{}</text>", Escaped(content));
    }

    /// The document, every open element closed.
    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out
    }

    fn start(&mut self, tag: &str, attrs: Attrs) {
        let _ = write!(self.out, "<{tag}");
        for (name, value) in attrs {
            let _ = write!(self.out, " {name}=\"{}\"", Escaped(&value.to_string()));
        }
    }
}

/// Text with the characters XML gives meaning to escaped.
struct Escaped<'a>(&'a str);

impl Display for Escaped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for c in self.0.chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped_and_every_element_closed() {
        let mut svg = Svg::new(10.0, 5.0);
        svg.open("g", &[("class", &"a\"b")]);
        svg.text(&[("x", &Px(1.5))], "n1 -> n2 <&>");
        let out = svg.finish();
        assert!(out.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10.0\""));
        assert!(out.contains("<g class=\"a&quot;b\">"));
        assert!(out.contains("<text x=\"1.5\">n1 -&gt; n2 &lt;&amp;&gt;</text>"));
        assert!(out.ends_with("</g>\n</svg>\n"));
    }
}
