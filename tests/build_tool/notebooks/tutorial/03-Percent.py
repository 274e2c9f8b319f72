# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# [< Reading data](02-Reading-Data.ipynb) | [Contents](Index.ipynb) | [MyST >](04-MyST.md)
#
# # A chapter kept as percent text
#
# ## Counting

# %%
print(len("percent"))
