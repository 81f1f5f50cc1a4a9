// GPT-2 byte-level BPE from a GGUF file's vocabulary (tokenizer.ggml.tokens) and merges (tokenizer.ggml.merges),
// with the pre-tokenizer llama.cpp uses for the "smollm" pre-type (also starcoder's): first every digit is its own
// piece (\p{N}), then each piece is split by GPT-2's pattern
//     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// as llama.cpp's hand-written matcher does (contractions are lower case only; a run of whitespace before a
// non-space leaves its last character to the next piece). Each piece's bytes are mapped to GPT-2's printable
// characters, merged pair by pair, lowest merge rank first (leftmost on ties), and looked up in the vocabulary.
//
// Character classes: exact for ASCII, Latin-1 and the General Punctuation block (curly quotes, dashes), which is
// what English text holds; other code points count as letters (right for most scripts, not for every symbol).
// Special tokens in the text are not parsed (llama.cpp's parse_special = false).
#pragma once
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gguf.hpp"

namespace bpe {

inline std::vector<char32_t> utf8_decode(const std::string& s) {
  std::vector<char32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + std::size_t(len) > s.size()) {  // invalid byte: keep it as U+FFFD-like raw value
      out.push_back(c);
      ++i;
      continue;
    }
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + std::size_t(k)]) & 0x3f);
    out.push_back(cp);
    i += std::size_t(len);
  }
  return out;
}

inline std::string utf8_encode(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += char(cp);
  } else if (cp < 0x800) {
    s += char(0xc0 | (cp >> 6));
    s += char(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    s += char(0xe0 | (cp >> 12));
    s += char(0x80 | ((cp >> 6) & 0x3f));
    s += char(0x80 | (cp & 0x3f));
  } else {
    s += char(0xf0 | (cp >> 18));
    s += char(0x80 | ((cp >> 12) & 0x3f));
    s += char(0x80 | ((cp >> 6) & 0x3f));
    s += char(0x80 | (cp & 0x3f));
  }
  return s;
}

enum Class { other, letter, number, space };

inline Class classify(char32_t c) {
  if (c < 0x80) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return letter;
    if (c >= '0' && c <= '9') return number;
    if (c == ' ' || (c >= 0x09 && c <= 0x0d)) return space;
    return other;
  }
  if (c < 0x100) {
    if (c == 0x85 || c == 0xa0) return space;
    if (c == 0xaa || c == 0xb5 || c == 0xba || (c >= 0xc0 && c != 0xd7 && c != 0xf7)) return letter;
    if (c == 0xb2 || c == 0xb3 || c == 0xb9 || (c >= 0xbc && c <= 0xbe)) return number;
    return other;
  }
  if (c >= 0x2000 && c <= 0x206f) {
    if (c <= 0x200a || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f) return space;
    return other;
  }
  if (c == 0x3000 || c == 0x1680) return space;
  return letter;
}

class Tokenizer {
 public:
  explicit Tokenizer(const gguf::File& f) {
    if (f.get("tokenizer.ggml.model").str != "gpt2")
      throw std::runtime_error("tokenizer model '" + f.get("tokenizer.ggml.model").str + "': only gpt2 (byte-level BPE) is implemented");
    const auto& toks = f.get("tokenizer.ggml.tokens").items;
    for (std::size_t i = 0; i < toks.size(); ++i) {
      vocab_.push_back(toks[i].str);
      ids_.emplace(toks[i].str, int(i));
    }
    const auto& merges = f.get("tokenizer.ggml.merges").items;
    for (std::size_t i = 0; i < merges.size(); ++i) {
      const std::string& m = merges[i].str;
      const auto sp = m.find(' ', 1);
      if (sp == std::string::npos) throw std::runtime_error("merge '" + m + "' is not two symbols");
      ranks_.emplace(m.substr(0, sp) + '\n' + m.substr(sp + 1), int(i));
    }
    // GPT-2's byte <-> printable character map.
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      const char32_t cp = printable ? char32_t(b) : char32_t(next++);
      byte_char_[b] = utf8_encode(cp);
      char_byte_[cp] = static_cast<unsigned char>(b);
    }
  }

  int size() const { return int(vocab_.size()); }
  const std::string& piece(int id) const { return vocab_.at(std::size_t(id)); }

  std::vector<int> encode(const std::string& text) const {
    std::vector<int> out;
    const std::vector<char32_t> cps = utf8_decode(text);
    for (const auto& [b, e] : pre_tokenize(cps)) {
      std::string word;
      for (std::size_t i = b; i < e; ++i)
        for (unsigned char byte : utf8_encode(cps[i])) word += byte_char_[byte];
      bpe(word, out);
    }
    return out;
  }

  /// The text of a token sequence (control tokens such as <|im_end|> as they are spelled).
  std::string decode(const std::vector<int>& ids) const {
    std::string s;
    for (int id : ids) s += decode(id);
    return s;
  }
  std::string decode(int id) const {
    std::string s;
    for (char32_t cp : utf8_decode(piece(id))) {
      auto it = char_byte_.find(cp);
      if (it == char_byte_.end()) return piece(id);  // not a byte-level token (a special token)
      s += char(it->second);
    }
    return s;
  }

 private:
  // [begin, end) ranges of code points.
  static std::vector<std::pair<std::size_t, std::size_t>> pre_tokenize(const std::vector<char32_t>& c) {
    std::vector<std::pair<std::size_t, std::size_t>> out;
    // First pass: every number character alone, the runs between them as they are.
    std::vector<std::pair<std::size_t, std::size_t>> first;
    std::size_t start = 0;
    for (std::size_t i = 0; i < c.size(); ++i)
      if (classify(c[i]) == number) {
        if (i > start) first.emplace_back(start, i);
        first.emplace_back(i, i + 1);
        start = i + 1;
      }
    if (start < c.size()) first.emplace_back(start, c.size());
    // Second pass: GPT-2's pattern inside each piece.
    for (const auto& piece : first) {
      const std::size_t b = piece.first, e = piece.second;  // lambdas cannot capture structured bindings in C++17
      const auto cls = [&](std::size_t p) -> int { return p < e ? int(classify(c[p])) : -1; };
      std::size_t prev = b;
      const auto add = [&](std::size_t end) {
        if (end > prev) out.emplace_back(prev, end);
        prev = end;
      };
      for (std::size_t pos = b; pos < e;) {
        const char32_t cp = c[pos];
        if (cp == '\'' && pos + 1 < e) {
          const char32_t n1 = c[pos + 1];
          if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') {
            add(pos += 2);
            continue;
          }
          if (pos + 2 < e) {
            const char32_t n2 = c[pos + 2];
            if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l')) {
              add(pos += 3);
              continue;
            }
          }
        }
        const int k = cp == ' ' ? cls(pos + 1) : cls(pos);
        if (k == letter || k == number) {
          pos += cp == ' ';
          while (cls(pos) == k) ++pos;
          add(pos);
          continue;
        }
        if (k == other) {
          pos += cp == ' ';
          while (cls(pos) == other) ++pos;
          add(pos);
          continue;
        }
        std::size_t ws = 0;
        while (cls(pos + ws) == space) ++ws;
        if (ws > 1 && pos + ws < e) {
          add(pos += ws - 1);
          continue;
        }
        if (ws > 0) {
          add(pos += ws);
          continue;
        }
        add(++pos);  // not reached for the classes above; kept as a guard
      }
    }
    return out;
  }

  void bpe(const std::string& word, std::vector<int>& out) const {
    // Symbols: the word's characters (each stands for one byte).
    std::vector<std::string> sym;
    for (char32_t cp : utf8_decode(word)) sym.push_back(utf8_encode(cp));
    while (sym.size() > 1) {
      int best = -1;
      std::size_t at = 0;
      for (std::size_t i = 0; i + 1 < sym.size(); ++i) {
        auto it = ranks_.find(sym[i] + '\n' + sym[i + 1]);
        if (it != ranks_.end() && (best < 0 || it->second < best)) {
          best = it->second;
          at = i;
        }
      }
      if (best < 0) break;
      sym[at] += sym[at + 1];
      sym.erase(sym.begin() + std::ptrdiff_t(at) + 1);
    }
    for (const std::string& s : sym) {
      auto it = ids_.find(s);
      if (it != ids_.end()) {
        out.push_back(it->second);
        continue;
      }
      for (char32_t cp : utf8_decode(s)) {  // not in the vocabulary: one token per byte
        auto b = ids_.find(utf8_encode(cp));
        if (b == ids_.end()) throw std::runtime_error("the vocabulary has no token for byte symbol '" + utf8_encode(cp) + "'");
        out.push_back(b->second);
      }
    }
  }

  std::vector<std::string> vocab_;
  std::unordered_map<std::string, int> ids_;
  std::unordered_map<std::string, int> ranks_;
  std::string byte_char_[256];
  std::map<char32_t, unsigned char> char_byte_;
};

}  // namespace bpe
