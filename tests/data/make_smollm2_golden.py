#!/usr/bin/env python3
"""Writes the golden files that `llm check` (examples/llm.cpp) compares against, computed by llama.cpp.

    python3 -m venv venv && venv/bin/pip install llama-cpp-python==0.3.36 numpy
    venv/bin/python tests/data/make_smollm2_golden.py MODEL.gguf [EVAL_TEXT]

MODEL.gguf is SmolLM2-135M-Instruct.Q4_1.gguf (scripts/fetch-smollm2 prints its path); EVAL_TEXT defaults to
examples/data/alice_ch1.txt. Two files are written next to this script:
  smollm2_ids.txt     llama.cpp's token ids of the evaluation text (no BOS, special tokens not parsed);
  smollm2_tokenizer.txt  llama.cpp's ids of short texts chosen to exercise the pre-tokenizer (digits,
                      contractions, runs of spaces and newlines, Latin-1 letters, punctuation, code), one per line:
                      the text's UTF-8 bytes in hex, a tab, the ids;
  smollm2_logits.txt  llama.cpp's top 8 logits (token:logit) at each position of the first 256 of those ids,
                      evaluated in one sequence from position 0, with a float32 KV cache.
llama.cpp multiplies Q4_1 weights by activations it quantizes to 8 bits (Q8_1), so its logits differ a little
from an exact float evaluation of the same weights; `llm check` states the tolerance it allows for that.
"""
import hashlib
import os
import sys

import llama_cpp
import numpy as np

POSITIONS = 256
TOKENIZER_CASES = [
    "In 1865, he said: \"I'll  go\u2014now!\"\n\n  \tTabs   and   spaces 12345 don't WON'T it's",
    "caf\u00e9 na\u00efve \u20ac5 x\u00b2 \u00bd 3.14159 -- (a)[b]{c} ...   \n",
    "  leading and trailing  ",
    "a\n\nb\r\nc \n d",
    "Hello world! It's 2026-12-05; we're OK, they've gone, I'd say, you'll see. 'quoted' \u2018curly\u2019 \u201cdouble\u201d",
    "e-mail: someone@example.com, URL https://x.y/z?q=1&r=2#f",
    "    def f(x):\n        return x ** 2\n",
]
TOP = 8


def main():
    model = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    text_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "..", "examples", "data", "alice_ch1.txt")
    with open(text_path, "rb") as f:
        text = f.read()
    with open(model, "rb") as f:
        model_sha = hashlib.sha256(f.read()).hexdigest()
    llm = llama_cpp.Llama(model_path=model, n_ctx=POSITIONS, n_batch=POSITIONS, logits_all=True, n_threads=2,
                          type_k=0, type_v=0, verbose=False)  # a float32 KV cache (GGML_TYPE_F32), not f16
    ids = llm.tokenize(text, add_bos=False, special=False)
    head = f"# llama-cpp-python {llama_cpp.__version__}, model sha256 {model_sha}, text {os.path.basename(text_path)}"
    with open(os.path.join(here, "smollm2_ids.txt"), "w") as f:
        f.write(head + f", {len(ids)} ids\n")
        for i in range(0, len(ids), 16):
            f.write(" ".join(str(t) for t in ids[i:i + 16]) + "\n")
    with open(os.path.join(here, "smollm2_tokenizer.txt"), "w") as f:
        f.write(head.split(", text")[0] + ": text as UTF-8 hex, tab, ids\n")
        for case in TOKENIZER_CASES:
            case_ids = llm.tokenize(case.encode(), add_bos=False, special=False)
            f.write(case.encode().hex() + "\t" + " ".join(str(t) for t in case_ids) + "\n")
    seq = ids[:POSITIONS]
    llm.reset()
    llm.eval(seq)
    scores = np.array(llm.scores[:len(seq)], dtype=np.float32)
    with open(os.path.join(here, "smollm2_logits.txt"), "w") as f:
        f.write(head + f", top {TOP} logits at positions 0..{len(seq) - 1} of its ids\n")
        for p in range(len(seq)):
            top = np.argsort(-scores[p], kind="stable")[:TOP]
            f.write(f"{p} " + " ".join(f"{int(t)}:{scores[p, t]:.4f}" for t in top) + "\n")
    print(f"{len(ids)} ids, {len(seq)} positions of logits written to {here}")


if __name__ == "__main__":
    main()
