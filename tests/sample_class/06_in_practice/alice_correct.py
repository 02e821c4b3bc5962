# about: a correct submission, written like the instructor's solution
# expected: 10
# base: solution
