"""Convert MovieLens (ml-latest-small) to the E/P files of ``python -m mlcore``.

    .venv/bin/python benchmarks/movielens_to_ep.py [../shared/data/movielens-latest-small] [OUTDIR]
    .venv/bin/python -m mlcore evaluate --events OUTDIR/events.csv.gz --products OUTDIR/products.csv.gz \\
        --split leave-last-out --exclude-seen --signals popularity,item_knn,ease,mf,text,kg \\
        --set popularity.half_life_days=null --set item_knn.half_life_days=null \\
        --set ease.half_life_days=null --set mf.half_life_days=null \\
        --normalization auto --json OUTDIR/report.json

The CF signals' default time decay (counted back from the newest event) suits a shop's
recent months, not 22 years of ratings ranked per user, hence the ``half_life_days=null``
settings. ``--exclude-seen`` is the headline here: a rated movie is not rated again.

Events (E): every rating is an interaction (``user_id`` = userId, ``item_id`` = movieId,
``timestamp`` from the Unix seconds, ``type`` = purchase, ``quantity`` = 1); the rating
value is not used (implicit feedback, as in most top-N studies of this data).
Products (P): ``title``; ``category`` = the first listed genre; ``genres`` = all genres
(an attribute, so a graph entity); ``year`` from the title; ``description`` = genres plus
the users' tags for the movie (most frequent first), which the text and graph signals read.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd
from ep_files import convert_main

DEFAULT_SOURCE = Path(__file__).resolve().parents[2] / "shared/data/movielens-latest-small"
YEAR = re.compile(r"\((\d{4})\)\s*$")


def convert(source: Path = DEFAULT_SOURCE, max_tags: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(events, products) frames in the E/P layout."""
    ratings = pd.read_csv(source / "ratings.csv")
    movies = pd.read_csv(source / "movies.csv")
    tags = pd.read_csv(source / "tags.csv")
    events = pd.DataFrame(
        {
            "user_id": ratings["userId"].astype(str),
            "item_id": ratings["movieId"].astype(str),
            "timestamp": pd.to_datetime(ratings["timestamp"], unit="s"),
            "type": "purchase",
            "quantity": 1,
        }
    )
    tags["tag"] = tags["tag"].astype(str).str.strip().str.lower()
    top_tags = (
        tags.groupby(["movieId", "tag"]).size().rename("n").reset_index()
        .sort_values(["movieId", "n", "tag"], ascending=[True, False, True])
        .groupby("movieId")["tag"].agg(lambda s: ", ".join(s.head(max_tags)))
    )
    genres = movies["genres"].replace("(no genres listed)", "")
    products = pd.DataFrame(
        {
            "item_id": movies["movieId"].astype(str),
            "title": movies["title"].str.replace(YEAR, "", regex=True).str.strip(),
            "category": genres.str.split("|").str[0].fillna(""),
            "genres": genres.str.replace("|", ", "),
            "year": movies["title"].str.extract(YEAR)[0].fillna(""),
        }
    )
    tag_text = movies["movieId"].map(top_tags).fillna("")
    products["description"] = ("Genres: " + products["genres"] + ". Tags: " + tag_text).str.replace(". Tags: $", ".", regex=True)
    return events, products


def main(argv: list[str]) -> int:
    return convert_main(argv, convert, DEFAULT_SOURCE, "var/movielens")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
