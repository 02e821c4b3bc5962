# about: a correct submission, written like the instructor's solution, with a written answer for the instructor to grade
# expected: 12
# by_hand: answer_which_normalization=3 (rubric: (a) group norm, with why 1; (b) layer norm or RMSNorm, per token 1; (c) instance norm, style 1)
# base: solution
# %% [answer_which_normalization]
(a) Group norm: it normalizes each image over groups of channels, so it does not care that only 2 images share a GPU, while batch norm's statistics over 2 images are noisy and differ from the running averages used at test time. (b) Layer norm, or RMSNorm as in LLaMA: each token is normalized over its own features, so nothing depends on the batch or on other positions of the sequence. (c) Instance norm: the mean and contrast of each channel of each image are what "style" is made of, and instance norm removes them per image.
