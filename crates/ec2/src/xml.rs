//! Writing the XML of responses: elements with escaped text, in the shape of EC2's
//! Query protocol (`<xxxSet><item>...</item></xxxSet>` lists, element names from the
//! service model's `locationName`s, booleans `true`/`false`).

/// An XML document being written, without indentation (as AWS writes it).
#[derive(Debug, Default)]
pub struct Xml {
    out: String,
}

impl Xml {
    /// An empty document.
    pub fn new() -> Xml {
        Xml::default()
    }

    /// `<name>`.
    pub fn open(&mut self, name: &str) -> &mut Xml {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// `</name>`.
    pub fn close(&mut self, name: &str) -> &mut Xml {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// `<name>text</name>`, the text escaped.
    pub fn leaf(&mut self, name: &str, text: impl std::fmt::Display) -> &mut Xml {
        self.open(name);
        escape_into(&mut self.out, &text.to_string());
        self.close(name)
    }

    /// `<name>text</name>` if `text` is given.
    pub fn opt(&mut self, name: &str, text: Option<impl std::fmt::Display>) -> &mut Xml {
        if let Some(t) = text {
            self.leaf(name, t);
        }
        self
    }

    /// Appends already-written XML.
    pub fn raw(&mut self, xml: &str) -> &mut Xml {
        self.out.push_str(xml);
        self
    }

    /// `<name><item>...</item>...</name>`, one item per element of `items`.
    pub fn set<T>(
        &mut self,
        name: &str,
        items: &[T],
        mut item: impl FnMut(&mut Xml, &T),
    ) -> &mut Xml {
        self.open(name);
        for i in items {
            self.open("item");
            item(self, i);
            self.close("item");
        }
        self.close(name)
    }

    /// `<tagSet>` of `(key, value)` pairs.
    pub fn tag_set(&mut self, tags: &[(String, String)]) -> &mut Xml {
        self.set("tagSet", tags, |x, (k, v)| {
            x.leaf("key", k).leaf("value", v);
        })
    }

    /// The text written.
    pub fn finish(self) -> String {
        self.out
    }
}

/// Escapes `&`, `<`, `>`, `"` and `'` for element text and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(&mut out, s);
    out
}

fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_and_sets() {
        let mut x = Xml::new();
        x.leaf("vpcId", "vpc-1")
            .tag_set(&[("Name".to_owned(), "a<b&'c'".to_owned())]);
        assert_eq!(
            x.finish(),
            "<vpcId>vpc-1</vpcId><tagSet><item><key>Name</key><value>a&lt;b&amp;&apos;c&apos;</value></item></tagSet>"
        );
    }
}
