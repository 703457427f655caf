"""The core program: the vocabulary every scenario compiles to and every backend runs.

Expression trees and their primitives, event patterns, distributions, the libm functions all
backends share, and the program itself. It imports nothing else of redline.
"""
