// What the report compares against: the paper's tables A-E (rows, labels, reference numbers)
// and its directions of effect. Numbers are from ../shared/docs/paper.md, which the
// experiment definitions (experiments/table_*/*.json) also follow; a result file's own
// paper_value is shown instead when it differs, with a note.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace scratchdet::report {

struct CatalogueRow {
  std::string experiment;             // experiment name, e.g. "bn_head_lr0.01"
  std::string label;                  // the paper's row text
  std::optional<double> paper_value;  // in %; nullopt = "n/r" (not recovered from the paper)
};

struct PaperTable {
  std::string id;       // "A".."E"
  std::string title;    // "BatchNorm placement x learning rate"
  std::string setting;  // what is trained, as in the paper's caption
  std::vector<CatalogueRow> rows;
  std::vector<std::string> references;  // paper rows that are not experiments here (text)
};

// Tables A-E in paper order.
const std::vector<PaperTable>& PaperTables();

// The table with this id, or nullptr.
const PaperTable* FindPaperTable(const std::string& id);

// Table A as laid out in the paper: rows (BN backbone, BN head) x columns (lr).
struct TableAGrid {
  std::vector<std::string> lrs;  // column headers, "0.001", "0.01", "0.05"
  struct Row {
    std::string bn_backbone;  // "no" / "yes"
    std::string bn_head;
    std::string prefix;  // experiment name = prefix + "_lr" + lr
  };
  std::vector<Row> rows;
};
const TableAGrid& TableALayout();

// "better rel worse", e.g. A/bn_head_lr0.001 > A/nobn_lr0.001.
enum class Relation { kGreater, kGreaterOrEqual };

struct ExperimentRef {
  std::string table;
  std::string experiment;
  std::string Label() const { return table + "/" + experiment; }
};

struct Comparison {
  std::string id;     // "1", "2a", ...
  std::string claim;  // "BN head > no BN"
  ExperimentRef a;    // the side the paper says is better
  Relation relation;
  ExperimentRef b;
};

// The paper's directions of effect, in the order of reports/README.md.
const std::vector<Comparison>& PaperComparisons();

const char* RelationSymbol(Relation relation);  // ">" or ">="

// Paper's COCO test-dev numbers for the Table E COCO row (in %), keyed like metrics.coco.
const std::vector<std::pair<std::string, double>>& PaperCocoMetrics();

}  // namespace scratchdet::report
