#include "scratchdet/report/document.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace scratchdet::report {

void Document::Heading(int level, std::string text) {
  Block b;
  b.kind = Block::Kind::kHeading;
  b.level = level;
  b.text = std::move(text);
  blocks_.push_back(std::move(b));
}

void Document::Paragraph(std::string text) {
  Block b;
  b.kind = Block::Kind::kParagraph;
  b.text = std::move(text);
  blocks_.push_back(std::move(b));
}

void Document::AddTable(Table table) {
  Block b;
  b.kind = Block::Kind::kTable;
  b.table = std::move(table);
  blocks_.push_back(std::move(b));
}

void Document::Bullets(std::vector<std::string> items) {
  Block b;
  b.kind = Block::Kind::kBullets;
  b.items = std::move(items);
  blocks_.push_back(std::move(b));
}

void Document::Image(std::string title, std::string file) {
  Block b;
  b.kind = Block::Kind::kImage;
  b.text = std::move(title);
  b.file = std::move(file);
  blocks_.push_back(std::move(b));
}

void Document::Append(const Document& other) {
  blocks_.insert(blocks_.end(), other.blocks_.begin(), other.blocks_.end());
}

namespace {

std::string MarkdownCell(const Cell& cell) {
  std::string out;
  for (size_t i = 0; i < cell.size(); ++i) {
    if (i > 0) out += " ";
    std::string text;
    for (char c : cell[i].text) {
      if (c == '|') text += '\\';
      text += c;
    }
    out += cell[i].link.empty() ? text : fmt::format("[{}]({})", text, cell[i].link);
  }
  return out;
}

std::string Escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string HtmlCell(const Cell& cell) {
  std::string out;
  for (size_t i = 0; i < cell.size(); ++i) {
    if (i > 0) out += " ";
    out += cell[i].link.empty()
               ? Escape(cell[i].text)
               : fmt::format("<a href=\"{}\">{}</a>", Escape(cell[i].link), Escape(cell[i].text));
  }
  return out;
}

}  // namespace

std::string RenderMarkdown(const Document& document) {
  std::string out;
  for (const Block& b : document.blocks()) {
    switch (b.kind) {
      case Block::Kind::kHeading:
        out += std::string(b.level, '#') + " " + b.text + "\n\n";
        break;
      case Block::Kind::kParagraph:
        out += b.text + "\n\n";
        break;
      case Block::Kind::kTable: {
        out += "|";
        for (const std::string& h : b.table.header) out += " " + h + " |";
        out += "\n|";
        for (size_t i = 0; i < b.table.header.size(); ++i) out += "---|";
        out += "\n";
        for (const auto& row : b.table.rows) {
          out += "|";
          for (const Cell& cell : row) out += " " + MarkdownCell(cell) + " |";
          out += "\n";
        }
        out += "\n";
        break;
      }
      case Block::Kind::kBullets:
        for (const std::string& item : b.items) out += "- " + item + "\n";
        out += "\n";
        break;
      case Block::Kind::kImage:
        out += fmt::format("![{}]({})\n\n", b.text, b.file);
        break;
    }
  }
  return out;
}

std::string Base64(const std::string& bytes) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v =
        (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = uint8_t(bytes[i]) << 16;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string RenderHtml(const Document& document, const std::string& title,
                       const std::string& out_dir) {
  std::string out = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<title>{}</title>\n<style>\n"
      "body {{ font-family: sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; }}\n"
      "table {{ border-collapse: collapse; margin: 1em 0; }}\n"
      "th, td {{ border: 1px solid #bbb; padding: 3px 8px; text-align: left; }}\n"
      "th {{ background: #eee; }}\n"
      "img {{ max-width: 100%; }}\n"
      "</style>\n</head>\n<body>\n",
      Escape(title));
  for (const Block& b : document.blocks()) {
    switch (b.kind) {
      case Block::Kind::kHeading:
        out += fmt::format("<h{0}>{1}</h{0}>\n", b.level, Escape(b.text));
        break;
      case Block::Kind::kParagraph:
        out += "<p>" + Escape(b.text) + "</p>\n";
        break;
      case Block::Kind::kTable:
        out += "<table>\n<tr>";
        for (const std::string& h : b.table.header) out += "<th>" + Escape(h) + "</th>";
        out += "</tr>\n";
        for (const auto& row : b.table.rows) {
          out += "<tr>";
          for (const Cell& cell : row) out += "<td>" + HtmlCell(cell) + "</td>";
          out += "</tr>\n";
        }
        out += "</table>\n";
        break;
      case Block::Kind::kBullets:
        out += "<ul>\n";
        for (const std::string& item : b.items) out += "<li>" + Escape(item) + "</li>\n";
        out += "</ul>\n";
        break;
      case Block::Kind::kImage: {
        std::ifstream in(out_dir + "/" + b.file, std::ios::binary);
        std::ostringstream bytes;
        if (in) bytes << in.rdbuf();
        if (!in || bytes.str().empty()) {
          out += "<p>(plot " + Escape(b.file) + " is missing)</p>\n";
          break;
        }
        out += fmt::format(
            "<figure><img alt=\"{0}\" src=\"data:image/png;base64,{1}\"><figcaption>{0}"
            "</figcaption></figure>\n",
            Escape(b.text), Base64(bytes.str()));
        break;
      }
    }
  }
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace scratchdet::report
