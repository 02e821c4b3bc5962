# about: correct code; his written prediction is (a), justified by internal covariate shift: graded by hand with the rubric (autograding gives it 0 until then)
# expected: 12
# by_hand: written_ics_prediction=3 (rubric: one letter and what ICS predicts 1, the noise against Section 4's drift 1, what the outcome would mean 1; any letter can earn full marks)
# base: solution
# %% [written_ics_prediction]
**(a)** I expect noisy BN to train about like the network without BN. Ioffe & Szegedy say batch norm helps because it keeps the input distribution of each layer stable. The noise here changes the mean and the spread of every sigmoid's input at every step, by more than the drift we measured without BN in Section 4, so the next layer has to keep re-adapting, exactly the problem BN was meant to remove. If I am wrong and noisy BN trains as well as BN, stable distributions cannot be what this network needs from BN.
