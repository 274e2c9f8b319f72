"""A traceback in a post shows the notebook's frames and the exception, not the build machine's libraries."""
import os
import sys


def test_library_frames_fold_into_one_line_without_paths(site):
    site.add("library_traceback.ipynb", "2021-01-01-traceback.ipynb")
    assert site.build().code == 0
    post = site.post("2021-01-01-traceback")
    block = post[post.index("```text"):post.index("{: .output .error}")]
    assert block == (
        "```text\n"
        "---------------------------------------------------------------------------\n"
        "JSONDecodeError                           Traceback (most recent call last)\n"
        "Cell In[1], line 8\n"
        "      4 def parse(text):\n"
        "      5     return json.loads(text)\n"
        "----> 8 parse('{x')\n"
        "\n"
        "Cell In[1], line 5, in parse(text)\n"
        "      4 def parse(text):\n"
        "----> 5     return json.loads(text)\n"
        "\n"
        "  … 3 frames inside json, json.decoder: loads → JSONDecoder.decode → JSONDecoder.raw_decode\n"
        "\n"
        "JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)\n"
        "```\n")
    for machine_path in (sys.prefix, os.path.expanduser("~"), str(site.root), "site-packages"):
        assert machine_path not in post
