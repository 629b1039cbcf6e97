// The report as a small document model, rendered both as Markdown (table_<t>.md, tables.md)
// and as one self-contained HTML page (report.html), so the two never say different things.
#pragma once

#include <string>
#include <vector>

namespace scratchdet::report {

struct Span {
  std::string text;
  std::string link;  // relative to the output folder; empty for plain text
};
using Cell = std::vector<Span>;

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<Cell>> rows;
};

struct Block {
  enum class Kind { kHeading, kParagraph, kTable, kBullets, kImage };
  Kind kind = Kind::kParagraph;
  int level = 2;                   // heading level
  std::string text;                // heading / paragraph text; image title
  Table table;                     // kTable
  std::vector<std::string> items;  // kBullets
  std::string file;                // kImage: PNG relative to the output folder
};

class Document {
 public:
  void Heading(int level, std::string text);
  void Paragraph(std::string text);
  void AddTable(Table table);
  void Bullets(std::vector<std::string> items);
  void Image(std::string title, std::string file);
  void Append(const Document& other);
  const std::vector<Block>& blocks() const { return blocks_; }

 private:
  std::vector<Block> blocks_;
};

// GitHub-flavoured Markdown; images as ![title](file) links.
std::string RenderMarkdown(const Document& document);

// One HTML page; each image is read from `out_dir`/file and embedded as a base64 PNG data
// URI (a missing file becomes a note in its place).
std::string RenderHtml(const Document& document, const std::string& title,
                       const std::string& out_dir);

// Standard base64 (RFC 4648) of raw bytes.
std::string Base64(const std::string& bytes);

}  // namespace scratchdet::report
