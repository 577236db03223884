// Lexer and parser: both syntaxes into one tree, diagnostics with locations, brace recovery.
#include <gtest/gtest.h>

#include "portmirror/junos/lexer.h"
#include "portmirror/junos/parser.h"
#include "test_support.h"

namespace portmirror::junos::test {
namespace {

struct Parsed {
  std::unique_ptr<SourceFile> src;
  Node root;
  std::vector<Diagnostic> diags;
};

Parsed parse(const std::string& text, bool lenient = false, SyntaxForm form = SyntaxForm::kAuto) {
  Parsed p;
  p.src = std::make_unique<SourceFile>("t.conf", text);
  parse_config(*p.src, ParseOptions{lenient, form}, p.root, p.diags);
  return p;
}

TEST(Lexer, WordsStringsCommentsAndLocations) {
  SourceFile src("x", "a-1/0/0.5 { # c\n  d \"e f\\\"g\\\\\"; /* multi\nline */ [ h ]\n}");
  std::vector<Diagnostic> diags;
  auto toks = lex(src, diags);
  ASSERT_TRUE(diags.empty());
  ASSERT_EQ(toks.size(), 9u);
  EXPECT_EQ(toks[0].text, "a-1/0/0.5");
  EXPECT_EQ(toks[1].kind, TokenKind::kLBrace);
  EXPECT_EQ(toks[2].text, "d");
  EXPECT_EQ(toks[2].line, 2);
  EXPECT_EQ(toks[2].column, 3);
  EXPECT_TRUE(toks[2].first_on_line);
  EXPECT_EQ(toks[3].kind, TokenKind::kString);
  EXPECT_EQ(toks[3].text, "e f\"g\\");
  EXPECT_EQ(toks[5].kind, TokenKind::kLBracket);
  EXPECT_EQ(toks[5].line, 3);
  EXPECT_EQ(toks[7].kind, TokenKind::kRBracket);
}

TEST(Lexer, TabsCountToMultiplesOfEight) {
  SourceFile src("x", "\tab;\n");
  std::vector<Diagnostic> diags;
  auto toks = lex(src, diags);
  EXPECT_EQ(toks[0].indent, 8);
  EXPECT_EQ(toks[0].column, 2);
}

TEST(Lexer, UnterminatedStringAndCommentAreErrors) {
  for (const char* text : {"a \"oops;\n", "a; /* never closed\n b;"}) {
    SourceFile src("x", text);
    std::vector<Diagnostic> diags;
    (void)lex(src, diags);
    ASSERT_EQ(diags.size(), 1u) << text;
    EXPECT_EQ(diags[0].severity, Severity::kError);
    EXPECT_EQ(diags[0].location.line, 1);
  }
}

TEST(Parser, SchemaGroupsWordsTheSameWayInBothForms) {
  auto h = parse(
      "routing-options { static { route 10.0.0.0/8 next-hop 192.0.2.1; } }\n"
      "firewall { family inet { filter f { term t { from { protocol [ tcp udp ]; } "
      "then { next term; } } } } }\n");
  auto s = parse(
      "set routing-options static route 10.0.0.0/8 next-hop 192.0.2.1\n"
      "set firewall family inet filter f term t from protocol tcp\n"
      "set firewall family inet filter f term t from protocol udp\n"
      "set firewall family inet filter f term t then next term\n");
  EXPECT_TRUE(h.diags.empty());
  EXPECT_TRUE(s.diags.empty());
  EXPECT_EQ(dump_tree(h.root), dump_tree(s.root));
  EXPECT_NE(dump_tree(h.root).find("protocol [ tcp udp ];"), std::string::npos);
  const Node* route = h.root.find("routing-options")->find("static")->find("route", "10.0.0.0/8");
  ASSERT_NE(route, nullptr);
  ASSERT_NE(route->find("next-hop"), nullptr);
  EXPECT_EQ(route->find("next-hop")->value(), "192.0.2.1");
  EXPECT_EQ(route->location.line, 1);
}

TEST(Parser, InactiveTagAndDeactivateLineMarkTheSameNode) {
  auto h = parse("interfaces { inactive: ge-0/0/0 { unit 0; } }");
  auto s = parse("set interfaces ge-0/0/0 unit 0\ndeactivate interfaces ge-0/0/0\n");
  EXPECT_EQ(dump_tree(h.root), dump_tree(s.root));
  EXPECT_TRUE(h.root.find("interfaces")->children[0].inactive);
  EXPECT_EQ(h.root.find("interfaces")->find("ge-0/0/0"), nullptr);  // skipped by the model
  EXPECT_EQ(dump_set(h.root), "set interfaces ge-0/0/0 unit 0\ndeactivate interfaces ge-0/0/0\n");
}

TEST(Parser, SetFormDeleteAndActivate) {
  auto s = parse(
      "set interfaces ge-0/0/0 unit 0 description a\n"
      "set interfaces ge-0/0/0 unit 1 description b\n"
      "delete interfaces ge-0/0/0 unit 0\n"
      "deactivate interfaces ge-0/0/0 unit 1\n"
      "activate interfaces ge-0/0/0 unit 1\n"
      "rename interfaces ge-0/0/0 unit 1 to unit 2\n");
  EXPECT_EQ(dump_set(s.root), "set interfaces ge-0/0/0 unit 1 description b\n");
  ASSERT_EQ(s.diags.size(), 1u);
  EXPECT_EQ(s.diags[0].severity, Severity::kWarning);
  EXPECT_EQ(s.diags[0].location.line, 6);
}

TEST(Parser, UnknownStatementsAreWarningsKeptOutOfTheModel) {
  auto p = parse(
      "interfaces {\n    ge-0/0/0 {\n        frobnicate 7;\n        unit 0;\n    }\n}\n"
      "system { host-name r1; }\n");
  ASSERT_EQ(p.diags.size(), 1u);
  EXPECT_EQ(p.diags[0].severity, Severity::kWarning);
  EXPECT_EQ(p.diags[0].location.line, 3);
  EXPECT_EQ(p.diags[0].location.column, 9);
  EXPECT_NE(p.diags[0].message.find("[edit interfaces ge-0/0/0]"), std::string::npos);
  const Node* ge = p.root.find("interfaces")->find("ge-0/0/0");
  EXPECT_EQ(ge->find("frobnicate"), nullptr);
  EXPECT_NE(ge->find("unit"), nullptr);
  EXPECT_NE(dump_tree(p.root).find("frobnicate 7; # unknown"), std::string::npos);
}

TEST(Parser, MissingSemicolonBeforeBraceIsTolerated) {
  auto p = parse("forwarding-options { port-mirroring { input { rate 5 } } }");
  EXPECT_TRUE(p.diags.empty());
  EXPECT_EQ(p.root.find("forwarding-options")
                ->find("port-mirroring")
                ->find("input")
                ->find("rate")
                ->value(),
            "5");
}

TEST(Parser, MissingSemicolonAtLineEndIsLocated) {
  auto p = parse(
      "firewall {\n    filter f {\n        term a {\n            then accept\n"
      "            from protocol tcp;\n        }\n    }\n}\n");
  auto d = find_diags(p.diags, Severity::kError, "missing ';' after 'accept'");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0]->location.line, 4);
  EXPECT_EQ(d[0]->location.column, 24);
  const Node* term = p.root.find("firewall")->find("filter")->find("term");
  EXPECT_NE(term->find("from"), nullptr);
}

TEST(Parser, ExtraBraceInTheMiddleIsAnErrorAtTheEndAWarning) {
  auto mid = parse("interfaces {\n}\n}\nchassis { }\n");
  auto d = find_diags(mid.diags, Severity::kError, "unexpected '}'");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0]->location.line, 3);
  EXPECT_NE(d[0]->message.find("'interfaces', was closed at line 2"), std::string::npos);
  auto end = parse("interfaces {\n}\n}\n");
  EXPECT_EQ(count(end.diags, Severity::kError), 0u);
  EXPECT_EQ(find_diags(end.diags, Severity::kWarning, "extra '}' at end of file").size(), 1u);
}

TEST(Parser, UnclosedBlockAtEndOfFileNamesTheBlock) {
  auto p = parse("interfaces {\n    ge-0/0/0 {\n        unit 0;\n");
  ASSERT_EQ(count(p.diags, Severity::kError), 2u);
  EXPECT_NE(p.diags[0].message.find("'ge-0/0/0' (opened at line 2)"), std::string::npos);
  EXPECT_NE(p.diags[1].message.find("'interfaces' (opened at line 1)"), std::string::npos);
}

TEST(Parser, IndentationLocatesAMissingBraceBeforeAStatement) {
  // 'input' closed its block by indentation only; 'family inet' is valid in 'forwarding-options
  // port-mirroring' too, so the brace is missing *before* line 5.
  auto p = parse(
      "forwarding-options {\n"
      "    port-mirroring {\n"
      "        input {\n"
      "            rate 2;\n"
      "        family inet {\n"
      "            output { interface gr-0/0/0.0; }\n"
      "        }\n"
      "    }\n"
      "}\n");
  auto d = find_diags(p.diags, Severity::kError, "'input' (opened at line 3) is never closed");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0]->location.line, 5);
  EXPECT_NE(d[0]->message.find("missing before line 5"), std::string::npos);
  EXPECT_EQ(count(p.diags, Severity::kError), 1u);
  const Node* pm = p.root.find("forwarding-options")->find("port-mirroring");
  EXPECT_NE(pm->find("family", "inet"), nullptr);
}

TEST(Parser, FlushLeftFilesDoNotTriggerIndentationDiagnostics) {
  auto p = parse("interfaces {\nge-0/0/0 {\nunit 0 {\ndescription x;\n}\n}\n}\n");
  EXPECT_TRUE(p.diags.empty());
}

// The seed's router-3-filter.conf as the seed prints it: two missing braces, both named.
TEST(Parser, SeedRouter3BothMissingBracesAreNamedPrecisely) {
  auto p = parse(read_file(seed("router-3-filter.conf")));
  ASSERT_EQ(count(p.diags, Severity::kError), 2u);
  auto fam =
      find_diags(p.diags, Severity::kError, "'family inet' (opened at line 5) is never closed");
  ASSERT_EQ(fam.size(), 1u);
  EXPECT_EQ(fam[0]->location.line, 9);
  EXPECT_EQ(fam[0]->location.column, 13);
  EXPECT_NE(fam[0]->message.find("probably missing after line 9"), std::string::npos);
  EXPECT_NE(fam[0]->message.find("'address' belongs inside 'family inet'"), std::string::npos);
  ASSERT_EQ(fam[0]->notes.size(), 1u);
  EXPECT_NE(fam[0]->notes[0].find("t.conf:5:13: note: 'family inet' opened here"),
            std::string::npos);
  auto then = find_diags(p.diags, Severity::kError, "'then' (opened at line 30) is never closed");
  ASSERT_EQ(then.size(), 1u);
  EXPECT_EQ(then[0]->location.line, 33);
  EXPECT_NE(then[0]->message.find("indented like 'term 0-capture' (line 23)"), std::string::npos);
  EXPECT_NE(then[0]->message.find("probably missing before line 33"), std::string::npos);
  // Recovery puts everything where the corrected file has it.
  auto fixed = parse(read_file(data("seed-corrected/router-3-filter.conf")));
  EXPECT_EQ(count(fixed.diags, Severity::kError), 0u);
  EXPECT_EQ(dump_tree(p.root), dump_tree(fixed.root));
}

TEST(Parser, LenientModeTurnsBraceErrorsIntoWarnings) {
  auto p = parse(read_file(seed("router-3-filter.conf")), /*lenient=*/true);
  EXPECT_EQ(count(p.diags, Severity::kError), 0u);
  auto w = find_diags(p.diags, Severity::kWarning, "(recovered by indentation)");
  EXPECT_EQ(w.size(), 2u);
}

TEST(Parser, ElisionLinesAreSkippedWithANote) {
  auto p = parse("...\ninterfaces { ... }\n");
  EXPECT_EQ(count(p.diags, Severity::kError), 0u);
  EXPECT_EQ(find_diags(p.diags, Severity::kNote, "elided").size(), 1u);
}

// Groups were flagged as unsupported until issue 6's second round; now a group holds any top-level
// hierarchy (parsed with the same schema) and `apply-groups` exists at every level.
TEST(Parser, GroupsAreParsedWithTheTopLevelSchema) {
  auto p = parse("groups { g { interfaces { <*> { mtu 1500; } } } }\napply-groups g;\n");
  EXPECT_EQ(count(p.diags, Severity::kWarning), 0u);
  EXPECT_EQ(count(p.diags, Severity::kError), 0u);
  const Node* mtu = p.root.find("groups")->find("g")->find("interfaces")->find("<*>")->find("mtu");
  ASSERT_NE(mtu, nullptr);
  EXPECT_EQ(mtu->value(), "1500");
  EXPECT_FALSE(mtu->unknown);
  const Node* apply = p.root.find("apply-groups");
  ASSERT_NE(apply, nullptr);
  EXPECT_EQ(apply->values, (std::vector<std::string>{"g"}));
  auto nested = parse(
      "interfaces { ge-0/0/0 { apply-groups [ a b ]; unit 0 { apply-groups-except a; } } }\n"
      "groups { g { bogus 1; } }\n");
  EXPECT_EQ(nested.root.find("interfaces")->find("ge-0/0/0")->find("apply-groups")->values,
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(
      find_diags(nested.diags, Severity::kWarning, "unknown statement 'bogus' in [edit groups g]")
          .size(),
      1u);
}

TEST(Parser, SetFormIsDetectedAndBracesInItAreErrors) {
  auto p = parse("# comment\nset interfaces ge-0/0/0 unit 0 description \"a b\"\nset chassis {\n");
  EXPECT_EQ(p.root.find("interfaces")->find("ge-0/0/0")->find("unit")->find("description")->value(),
            "a b");
  EXPECT_EQ(count(p.diags, Severity::kError), 1u);
}

TEST(Parser, ValuesMissingOrExtraAreErrors) {
  auto p = parse("forwarding-options { port-mirroring { input { rate; run-length 1 2; } } }");
  EXPECT_EQ(find_diags(p.diags, Severity::kError, "'rate' needs a value").size(), 1u);
  EXPECT_EQ(find_diags(p.diags, Severity::kError, "unexpected '2' after 'run-length 1'").size(),
            1u);
}

TEST(Parser, FormatShowsLineAndCaret) {
  auto p = parse("interfaces {\n    ge-0/0/0 {\n        bogus;\n    }\n}\n");
  std::string out = format_diagnostics(p.diags);
  EXPECT_EQ(
      out,
      "t.conf:3:9: warning: unknown statement 'bogus' in [edit interfaces ge-0/0/0]; ignored\n"
      " 3 |         bogus;\n"
      "   |         ^\n");
}

TEST(Parser, RepeatedLeafListsAccumulateAndLeavesAreReplaced) {
  auto p = parse(
      "firewall { filter f { term t { from { port 22; port [ 80 22 ]; } } } }\n"
      "forwarding-options { port-mirroring { input { rate 2; rate 3; } } }\n");
  const Node* port =
      p.root.find("firewall")->find("filter")->find("term")->find("from")->find("port");
  EXPECT_EQ(port->values, (std::vector<std::string>{"22", "80"}));
  EXPECT_EQ(p.root.find("forwarding-options")
                ->find("port-mirroring")
                ->find("input")
                ->find("rate")
                ->value(),
            "3");
}

}  // namespace
}  // namespace portmirror::junos::test

namespace portmirror::junos::test {
namespace {

// The normalised dumps are valid input: reading them back gives the same tree, in both forms.
TEST(Parser, TreeAndSetDumpsRoundTrip) {
  for (const std::string& path :
       {data("full.conf"), data("full.set"), data("clean/router.conf"),
        data("seed-corrected/router-3-filter.conf"), seed("router-3-filter.conf")}) {
    auto p = parse(read_file(path), /*lenient=*/true);
    std::string tree = dump_tree(p.root);
    auto again = parse(tree);
    EXPECT_EQ(count(again.diags, Severity::kError), 0u) << path << format_diagnostics(again.diags);
    EXPECT_EQ(dump_tree(again.root), tree) << path;
    auto from_set = parse(dump_set(p.root));
    EXPECT_EQ(count(from_set.diags, Severity::kError), 0u) << path;
    EXPECT_EQ(dump_set(from_set.root), dump_set(p.root)) << path;
  }
}

}  // namespace
}  // namespace portmirror::junos::test
