# about: a correct submission, written like the instructor's solution
# expected: 18
# base: solution
